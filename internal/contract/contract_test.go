package contract

import "testing"

func TestValidateAMIID(t *testing.T) {
	for _, tc := range []struct {
		id, wantErr string
	}{
		{id: "ami-0123abcd"},
		{id: "ami-0123456789abcdef0"},
		{id: "", wantErr: `"" is not an AMI id (want "ami-" followed by 8 or 17 hex digits)`},
		{id: "ami-123", wantErr: `"ami-123" is not an AMI id (want "ami-" followed by 8 or 17 hex digits)`},
		{id: "ami-0123456789ABCDEF0", wantErr: `"ami-0123456789ABCDEF0" is not an AMI id (want "ami-" followed by 8 or 17 hex digits)`},
		{id: "ami-0123456789abcdef", wantErr: `"ami-0123456789abcdef" is not an AMI id (want "ami-" followed by 8 or 17 hex digits)`},
		{id: " ami-0123abcd", wantErr: `" ami-0123abcd" is not an AMI id (want "ami-" followed by 8 or 17 hex digits)`},
		{id: "snap-0123abcd", wantErr: `"snap-0123abcd" is not an AMI id (want "ami-" followed by 8 or 17 hex digits)`},
	} {
		err := ValidateAMIID(tc.id)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("ValidateAMIID(%q) = %v, want nil", tc.id, err)
		case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
			t.Errorf("ValidateAMIID(%q) = %v, want %q", tc.id, err, tc.wantErr)
		}
	}
}
