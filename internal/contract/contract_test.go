package contract

import (
	"regexp"
	"testing"
)

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

// amiIDRegexp is the definition isAMIID implements by hand.
var amiIDRegexp = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)

func FuzzValidateAMIIDMatchesRegexp(f *testing.F) {
	for _, s := range []string{"ami-0123abcd", "ami-0123456789abcdef0", "ami-", "ami-0123abcg", "ami-0123456789abcdef", "AMI-0123abcd", "ami-0123abcd\n", "ami-0123456789abcdeF0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := ValidateAMIID(id) == nil, amiIDRegexp.MatchString(id); got != want {
			t.Fatalf("ValidateAMIID(%q) accepts = %v, the regexp %s says %v", id, got, amiIDRegexp, want)
		}
	})
}
