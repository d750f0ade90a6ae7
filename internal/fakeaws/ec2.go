package fakeaws

import (
	"encoding/xml"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// EC2Image is an AMI DescribeImages can return.
type EC2Image struct {
	ImageID      string
	OwnerID      string // default AccountID
	OwnerAlias   string // e.g. "amazon"
	Name         string
	State        string // default "available"
	CreationDate string // RFC 3339, e.g. 2024-07-01T12:00:00.000Z
}

// AddEC2Image adds an AMI to region.
func (s *Server) AddEC2Image(region string, img EC2Image) {
	if img.OwnerID == "" {
		img.OwnerID = AccountID
	}
	if img.State == "" {
		img.State = "available"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ec2Images[region] = append(s.ec2Images[region], img)
}

func (s *Server) ec2Handler(op string) handlerFunc {
	if op == "DescribeImages" {
		return s.ec2DescribeImages
	}
	return nil
}

type ec2ImageXML struct {
	ImageID      string `xml:"imageId"`
	OwnerID      string `xml:"imageOwnerId"`
	OwnerAlias   string `xml:"imageOwnerAlias,omitempty"`
	Name         string `xml:"name"`
	State        string `xml:"imageState"`
	CreationDate string `xml:"creationDate"`
}

// ec2DescribeImages supports Owner.N and the name and state filters (with
// * and ? wildcards), and paging via MaxResults and NextToken.
func (s *Server) ec2DescribeImages(req *request) (any, *apiError) {
	var owners []string
	for i := 1; ; i++ {
		o := req.Form.Get("Owner." + strconv.Itoa(i))
		if o == "" {
			break
		}
		if o == "self" {
			o = AccountID
		}
		owners = append(owners, o)
	}
	filters := map[string][]*regexp.Regexp{}
	for i := 1; ; i++ {
		p := "Filter." + strconv.Itoa(i) + "."
		name := req.Form.Get(p + "Name")
		if name == "" {
			break
		}
		if name != "name" && name != "state" {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "fakeaws does not support filter %q", name)
		}
		for j := 1; ; j++ {
			v := req.Form.Get(p + "Value." + strconv.Itoa(j))
			if v == "" {
				break
			}
			filters[name] = append(filters[name], glob(v))
		}
	}
	var matched []ec2ImageXML
	for _, img := range s.ec2Images[req.region] {
		if len(owners) > 0 && !contains(owners, img.OwnerID) && !contains(owners, img.OwnerAlias) {
			continue
		}
		if !matchAny(filters["name"], img.Name) || !matchAny(filters["state"], img.State) {
			continue
		}
		matched = append(matched, ec2ImageXML{img.ImageID, img.OwnerID, img.OwnerAlias, img.Name, img.State, img.CreationDate})
	}
	size := s.EC2PageSize
	if v, err := strconv.Atoi(req.Form.Get("MaxResults")); err == nil && v > 0 {
		size = v
	}
	page, next, aerr := paginate(len(matched), size, req.Form.Get("NextToken"))
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		XMLName   xml.Name      `xml:"DescribeImagesResponse"`
		XMLNS     string        `xml:"xmlns,attr"`
		RequestID string        `xml:"requestId"`
		Images    []ec2ImageXML `xml:"imagesSet>item"`
		NextToken string        `xml:"nextToken,omitempty"`
	}{XMLNS: "http://ec2.amazonaws.com/doc/2016-11-15/", RequestID: "fake-request", Images: matched[page[0]:page[1]], NextToken: next}, nil
}

func glob(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func matchAny(res []*regexp.Regexp, s string) bool {
	if len(res) == 0 {
		return true
	}
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s && s != "" {
			return true
		}
	}
	return false
}

func init() {
	register(ServiceEC2, service{Protocol: ProtocolEC2Query,
		Handler: func(s *Server, _, op string) handlerFunc { return s.ec2Handler(op) }})
}
