package fakeaws

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// Platform is an Elastic Beanstalk platform version.
type Platform struct {
	ARN     string
	Branch  string
	Version string
	Status  string // Ready, Creating, Failed, Deleting, Deleted
	AMIs    []CustomAMI
}

// CustomAMI is one entry of a platform version's CustomAmiList.
type CustomAMI struct {
	VirtualizationType string
	ImageID            string
}

// AddPlatform adds a platform version for ListPlatformVersions and
// DescribePlatformVersion.
func (s *Server) AddPlatform(p Platform) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.platforms = append(s.platforms, p)
}

func (s *Server) ebHandler(op string) handlerFunc {
	switch op {
	case "ListPlatformVersions":
		return s.ebListPlatformVersions
	case "DescribePlatformVersion":
		return s.ebDescribePlatformVersion
	}
	return nil
}

const ebXMLNS = "http://elasticbeanstalk.amazonaws.com/docs/2010-12-01/"

type ebSummary struct {
	PlatformArn        string `xml:"PlatformArn"`
	PlatformStatus     string `xml:"PlatformStatus"`
	PlatformVersion    string `xml:"PlatformVersion"`
	PlatformBranchName string `xml:"PlatformBranchName"`
}

type ebCustomAMI struct {
	VirtualizationType string `xml:"VirtualizationType"`
	ImageId            string `xml:"ImageId"`
}

// ebListPlatformVersions supports the PlatformBranchName, PlatformStatus and
// PlatformVersion filters with the "=" operator, and paging via NextToken.
func (s *Server) ebListPlatformVersions(req *request) (any, *apiError) {
	type filter struct{ typ, op, value string }
	var filters []filter
	for i := 1; ; i++ {
		p := "Filters.member." + strconv.Itoa(i) + "."
		typ := req.Form.Get(p + "Type")
		if typ == "" {
			break
		}
		op := req.Form.Get(p + "Operator")
		if op == "" {
			op = "="
		}
		if op != "=" {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "fakeaws supports only the = operator, got %q", op)
		}
		filters = append(filters, filter{typ, op, req.Form.Get(p + "Values.member.1")})
	}
	var matched []ebSummary
	for _, pl := range s.platforms {
		ok := true
		for _, f := range filters {
			var v string
			switch f.typ {
			case "PlatformBranchName":
				v = pl.Branch
			case "PlatformStatus":
				v = pl.Status
			case "PlatformVersion":
				v = pl.Version
			default:
				return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "fakeaws does not support filter type %q", f.typ)
			}
			ok = ok && v == f.value
		}
		if ok {
			matched = append(matched, ebSummary{pl.ARN, pl.Status, pl.Version, pl.Branch})
		}
	}
	page, next, aerr := paginate(len(matched), s.EBPageSize, req.Form.Get("NextToken"))
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		XMLName   xml.Name    `xml:"ListPlatformVersionsResponse"`
		XMLNS     string      `xml:"xmlns,attr"`
		Summaries []ebSummary `xml:"ListPlatformVersionsResult>PlatformSummaryList>member"`
		NextToken string      `xml:"ListPlatformVersionsResult>NextToken,omitempty"`
		RequestID string      `xml:"ResponseMetadata>RequestId"`
	}{XMLNS: ebXMLNS, Summaries: matched[page[0]:page[1]], NextToken: next, RequestID: "fake-request"}, nil
}

func (s *Server) ebDescribePlatformVersion(req *request) (any, *apiError) {
	arn := req.Form.Get("PlatformArn")
	for _, pl := range s.platforms {
		if pl.ARN != arn {
			continue
		}
		amis := make([]ebCustomAMI, 0, len(pl.AMIs))
		for _, a := range pl.AMIs {
			amis = append(amis, ebCustomAMI{a.VirtualizationType, a.ImageID})
		}
		type description struct {
			PlatformArn        string        `xml:"PlatformArn"`
			PlatformStatus     string        `xml:"PlatformStatus"`
			PlatformVersion    string        `xml:"PlatformVersion"`
			PlatformBranchName string        `xml:"PlatformBranchName"`
			CustomAmiList      []ebCustomAMI `xml:"CustomAmiList>member"`
		}
		return struct {
			XMLName     xml.Name    `xml:"DescribePlatformVersionResponse"`
			XMLNS       string      `xml:"xmlns,attr"`
			Description description `xml:"DescribePlatformVersionResult>PlatformDescription"`
			RequestID   string      `xml:"ResponseMetadata>RequestId"`
		}{XMLNS: ebXMLNS, Description: description{pl.ARN, pl.Status, pl.Version, pl.Branch, amis}, RequestID: "fake-request"}, nil
	}
	return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "No Platform found with ARN %s.", arn)
}

// paginate returns the [start, end) window of n items for the page that
// token names, and the token of the next page ("" on the last one).
func paginate(n, size int, token string) ([2]int, string, *apiError) {
	start := 0
	if token != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(token, "page-"))
		if err != nil || v < 0 || v > n {
			return [2]int{}, "", errorf(http.StatusBadRequest, "InvalidParameterValue", "invalid NextToken %q", token)
		}
		start = v
	}
	if size <= 0 {
		return [2]int{start, n}, "", nil
	}
	end := min(start+size, n)
	next := ""
	if end < n {
		next = "page-" + strconv.Itoa(end)
	}
	return [2]int{start, end}, next, nil
}

func init() {
	register(ServiceElasticBeanstalk, service{Protocol: ProtocolQuery,
		Handler: func(s *Server, _, op string) handlerFunc { return s.ebHandler(op) }})
}
