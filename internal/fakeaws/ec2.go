package fakeaws

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
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
	switch op {
	case "DescribeImages":
		return s.ec2DescribeImages
	case "DescribeLaunchTemplateVersions":
		return s.ec2DescribeLaunchTemplateVersions
	case "CreateLaunchTemplateVersion":
		return s.ec2CreateLaunchTemplateVersion
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
		matched = append(matched, ec2ImageXML(img))
	}
	// MaxResults is 5-1000; without it EC2 answers in one page, which the
	// fake splits by EC2PageSize. The messages are EC2's for too small a
	// value; the one for too large a value is provisional.
	requested, aerr := formInt(req, "MaxResults", 0, func(v int) *apiError {
		switch {
		case v < 5:
			return errorf(http.StatusBadRequest, "InvalidParameterValue",
				"Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than 5.", v)
		case v > 1000:
			return errorf(http.StatusBadRequest, "InvalidParameterValue",
				"Value ( %d ) for parameter maxResults is invalid. Expecting a value less than or equal to 1000.", v)
		}
		return nil
	})
	if aerr != nil {
		return nil, aerr
	}
	page, next, aerr := paginate(len(matched), smallerPage(requested, s.EC2PageSize), req.Form.Get("NextToken"))
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		XMLName   xml.Name      `xml:"DescribeImagesResponse"`
		XMLNS     string        `xml:"xmlns,attr"`
		RequestID string        `xml:"requestId"`
		Images    []ec2ImageXML `xml:"imagesSet>item"`
		NextToken string        `xml:"nextToken,omitempty"`
	}{XMLNS: ec2XMLNS, RequestID: "fake-request", Images: matched[page[0]:page[1]], NextToken: next}, nil
}

const ec2XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"

// LaunchTemplate is an EC2 launch template held by the fake.
type LaunchTemplate struct {
	ID   string
	Name string
	// DefaultVersion is the version number $Default resolves to.
	DefaultVersion int64
	// Versions holds every version, oldest first: Versions[i].Number is i+1.
	Versions []LaunchTemplateVersion
}

// LaunchTemplateVersion is one immutable version of a launch template. The
// fake models the two launch parameters the golden-AMI functions care about;
// CreateLaunchTemplateVersion rejects any other.
type LaunchTemplateVersion struct {
	Number      int64
	Description string
	// ImageID is an AMI id, or an SSM alias such as resolve:ssm:/golden-ami/latest.
	ImageID      string
	InstanceType string
	// SourceVersion and ClientToken are what CreateLaunchTemplateVersion was
	// called with, so tests can check how a version was derived.
	SourceVersion string
	ClientToken   string
	CreateTime    time.Time
}

// launchTemplateState is the launch-template state of one server. It hangs
// off a side table rather than a Server field so that EC2's state stays in
// this file; it is only touched with the server's mutex held.
type launchTemplateState struct {
	byRegion map[string]map[string]*LaunchTemplate // region -> id -> template
	tokens   map[string]clientTokenUse             // region + "/" + ClientToken
}

type clientTokenUse struct {
	fingerprint string
	templateID  string
	version     int64
}

var launchTemplateStates sync.Map // *Server -> *launchTemplateState

func (s *Server) launchTemplates() *launchTemplateState {
	v, _ := launchTemplateStates.LoadOrStore(s, &launchTemplateState{
		byRegion: map[string]map[string]*LaunchTemplate{},
		tokens:   map[string]clientTokenUse{},
	})
	return v.(*launchTemplateState)
}

// AddLaunchTemplate creates the launch template id (named name) in region
// with a version 1, which is also its default version, that launches
// imageID on instanceType. It records no call.
func (s *Server) AddLaunchTemplate(region, id, name, imageID, instanceType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.launchTemplates()
	if st.byRegion[region] == nil {
		st.byRegion[region] = map[string]*LaunchTemplate{}
	}
	st.byRegion[region][id] = &LaunchTemplate{ID: id, Name: name, DefaultVersion: 1, Versions: []LaunchTemplateVersion{
		{Number: 1, ImageID: imageID, InstanceType: instanceType, CreateTime: time.Now().UTC()},
	}}
}

// LaunchTemplate returns a copy of the launch template id in region.
func (s *Server) LaunchTemplate(region, id string) (LaunchTemplate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lt, ok := s.launchTemplates().byRegion[region][id]
	if !ok {
		return LaunchTemplate{}, false
	}
	c := *lt
	c.Versions = append([]LaunchTemplateVersion(nil), lt.Versions...)
	return c, true
}

// findLaunchTemplate looks a template up by id or, when id is empty, by name.
func (s *Server) findLaunchTemplate(region, id, name string) (*LaunchTemplate, *apiError) {
	st := s.launchTemplates()
	switch {
	case id != "" && name != "":
		return nil, errorf(http.StatusBadRequest, "InvalidParameterCombination", "specify either the launch template ID or the launch template name, not both")
	case id != "":
		if lt, ok := st.byRegion[region][id]; ok {
			return lt, nil
		}
		return nil, errorf(http.StatusBadRequest, "InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
	case name != "":
		for _, lt := range st.byRegion[region] {
			if lt.Name == name {
				return lt, nil
			}
		}
		return nil, errorf(http.StatusBadRequest, "InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.")
	}
	return nil, errorf(http.StatusBadRequest, "MissingParameter", "fakeaws needs LaunchTemplateId or LaunchTemplateName")
}

// version resolves a version number, $Latest or $Default.
func (lt *LaunchTemplate) version(v string) (*LaunchTemplateVersion, *apiError) {
	var n int64
	switch v {
	case "$Latest":
		n = int64(len(lt.Versions))
	case "$Default":
		n = lt.DefaultVersion
	default:
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, errorf(http.StatusBadRequest, "InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %q for launch template %s", v, lt.ID)
		}
	}
	if n < 1 || n > int64(len(lt.Versions)) {
		return nil, errorf(http.StatusBadRequest, "InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s for launch template %s", v, lt.ID)
	}
	return &lt.Versions[n-1], nil
}

type ec2LaunchTemplateVersionXML struct {
	LaunchTemplateID   string `xml:"launchTemplateId"`
	LaunchTemplateName string `xml:"launchTemplateName"`
	VersionNumber      int64  `xml:"versionNumber"`
	VersionDescription string `xml:"versionDescription,omitempty"`
	DefaultVersion     bool   `xml:"defaultVersion"`
	CreateTime         string `xml:"createTime"`
	ImageID            string `xml:"launchTemplateData>imageId,omitempty"`
	InstanceType       string `xml:"launchTemplateData>instanceType,omitempty"`
}

func launchTemplateVersionXML(lt *LaunchTemplate, v *LaunchTemplateVersion) ec2LaunchTemplateVersionXML {
	return ec2LaunchTemplateVersionXML{
		LaunchTemplateID: lt.ID, LaunchTemplateName: lt.Name, VersionNumber: v.Number,
		VersionDescription: v.Description, DefaultVersion: v.Number == lt.DefaultVersion,
		CreateTime: v.CreateTime.Format("2006-01-02T15:04:05.000Z"), ImageID: v.ImageID, InstanceType: v.InstanceType,
	}
}

// ec2DescribeLaunchTemplateVersions describes the versions named by
// LaunchTemplateVersion.N (numbers, $Latest, $Default) of one template or,
// when none is named, every version after MinVersion up to MaxVersion, with
// paging via MaxResults and NextToken.
// Filters and ResolveAlias are not supported.
func (s *Server) ec2DescribeLaunchTemplateVersions(req *request) (any, *apiError) {
	if req.Form.Get("Filter.1.Name") != "" || req.Form.Get("ResolveAlias") == "true" {
		return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "fakeaws does not support Filter or ResolveAlias on DescribeLaunchTemplateVersions")
	}
	lt, aerr := s.findLaunchTemplate(req.region, req.Form.Get("LaunchTemplateId"), req.Form.Get("LaunchTemplateName"))
	if aerr != nil {
		return nil, aerr
	}
	var selected []*LaunchTemplateVersion
	seen := map[int64]bool{}
	for i := 1; ; i++ {
		name := req.Form.Get("LaunchTemplateVersion." + strconv.Itoa(i))
		if name == "" {
			break
		}
		v, aerr := lt.version(name)
		if aerr != nil {
			return nil, aerr
		}
		if !seen[v.Number] {
			seen[v.Number] = true
			selected = append(selected, v)
		}
	}
	if len(seen) == 0 {
		lo, hi, aerr := versionRange(req.Form.Get("MinVersion"), req.Form.Get("MaxVersion"))
		if aerr != nil {
			return nil, aerr
		}
		for i := range lt.Versions {
			if n := lt.Versions[i].Number; n > lo && n <= hi {
				selected = append(selected, &lt.Versions[i])
			}
		}
	}
	// EC2 may return fewer than MaxResults with a NextToken; EC2PageSize
	// makes the fake do so.
	// MaxResults is 1-200 (default 200), EC2's own message for a value out
	// of range.
	requested, aerr := formInt(req, "MaxResults", 200, func(v int) *apiError {
		if v < 1 || v > 200 {
			return errorf(http.StatusBadRequest, "InvalidParameterValue", "Maximum results allowed are between 1 and 200")
		}
		return nil
	})
	if aerr != nil {
		return nil, aerr
	}
	page, next, aerr := paginate(len(selected), smallerPage(requested, s.EC2PageSize), req.Form.Get("NextToken"))
	if aerr != nil {
		return nil, aerr
	}
	items := make([]ec2LaunchTemplateVersionXML, 0, page[1]-page[0])
	for _, v := range selected[page[0]:page[1]] {
		items = append(items, launchTemplateVersionXML(lt, v))
	}
	return struct {
		XMLName   xml.Name                      `xml:"DescribeLaunchTemplateVersionsResponse"`
		XMLNS     string                        `xml:"xmlns,attr"`
		RequestID string                        `xml:"requestId"`
		Versions  []ec2LaunchTemplateVersionXML `xml:"launchTemplateVersionSet>item"`
		NextToken string                        `xml:"nextToken,omitempty"`
	}{XMLNS: ec2XMLNS, RequestID: "fake-request", Versions: items, NextToken: next}, nil
}

// versionRange parses MinVersion (exclusive: "the version number after
// which to describe") and MaxVersion (inclusive: "up to which").
func versionRange(minVersion, maxVersion string) (lo, hi int64, aerr *apiError) {
	lo, hi = 0, 1<<62
	for _, b := range []struct {
		s string
		p *int64
	}{{minVersion, &lo}, {maxVersion, &hi}} {
		if b.s == "" {
			continue
		}
		n, err := strconv.ParseInt(b.s, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, errorf(http.StatusBadRequest, "InvalidParameterValue", "%q is not a launch template version number", b.s)
		}
		*b.p = n
	}
	return lo, hi, nil
}

var amiIDPattern = regexp.MustCompile(`^ami-([0-9a-f]{8}|[0-9a-f]{17})$`)

// ec2CreateLaunchTemplateVersion appends a version. With SourceVersion the
// new version inherits the source's launch parameters and overrides those
// given. A ClientToken seen before with the same request returns the version
// that request created (as EC2 does); with a different request it is
// IdempotentParameterMismatch.
func (s *Server) ec2CreateLaunchTemplateVersion(req *request) (any, *apiError) {
	for key := range req.Form {
		if strings.HasPrefix(key, "LaunchTemplateData.") && key != "LaunchTemplateData.ImageId" && key != "LaunchTemplateData.InstanceType" {
			return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "fakeaws models only ImageId and InstanceType, got %s", key)
		}
	}
	lt, aerr := s.findLaunchTemplate(req.region, req.Form.Get("LaunchTemplateId"), req.Form.Get("LaunchTemplateName"))
	if aerr != nil {
		return nil, aerr
	}
	f := req.Form
	image, instanceType, source, desc, token := f.Get("LaunchTemplateData.ImageId"), f.Get("LaunchTemplateData.InstanceType"),
		f.Get("SourceVersion"), f.Get("VersionDescription"), f.Get("ClientToken")
	st := s.launchTemplates()
	fingerprint := strings.Join([]string{lt.ID, source, desc, image, instanceType}, "\x00")
	if token != "" {
		if use, ok := st.tokens[req.region+"/"+token]; ok {
			if use.fingerprint != fingerprint {
				return nil, errorf(http.StatusBadRequest, "IdempotentParameterMismatch", "The client token %s was already used with different parameters.", token)
			}
			prev := st.byRegion[req.region][use.templateID]
			return createLaunchTemplateVersionResponse(prev, &prev.Versions[use.version-1]), nil
		}
	}
	if image != "" && !strings.HasPrefix(image, "resolve:ssm:") && !amiIDPattern.MatchString(image) {
		return nil, errorf(http.StatusBadRequest, "InvalidAMIID.Malformed", "Invalid id: %q (expecting \"ami-...\")", image)
	}
	if len(desc) > 255 {
		return nil, errorf(http.StatusBadRequest, "InvalidParameterValue", "VersionDescription is longer than 255 characters")
	}
	v := LaunchTemplateVersion{Number: int64(len(lt.Versions)) + 1, Description: desc, SourceVersion: source, ClientToken: token, CreateTime: time.Now().UTC()}
	if source != "" {
		src, aerr := lt.version(source)
		if aerr != nil {
			return nil, aerr
		}
		v.ImageID, v.InstanceType = src.ImageID, src.InstanceType
	}
	if image != "" {
		v.ImageID = image
	}
	if instanceType != "" {
		v.InstanceType = instanceType
	}
	if v.ImageID == "" {
		return nil, errorf(http.StatusBadRequest, "MissingParameter", "fakeaws: the new version of %s has no ImageId", lt.ID)
	}
	lt.Versions = append(lt.Versions, v)
	if token != "" {
		st.tokens[req.region+"/"+token] = clientTokenUse{fingerprint: fingerprint, templateID: lt.ID, version: v.Number}
	}
	return createLaunchTemplateVersionResponse(lt, &lt.Versions[len(lt.Versions)-1]), nil
}

func createLaunchTemplateVersionResponse(lt *LaunchTemplate, v *LaunchTemplateVersion) any {
	return struct {
		XMLName   xml.Name                    `xml:"CreateLaunchTemplateVersionResponse"`
		XMLNS     string                      `xml:"xmlns,attr"`
		RequestID string                      `xml:"requestId"`
		Version   ec2LaunchTemplateVersionXML `xml:"launchTemplateVersion"`
	}{XMLNS: ec2XMLNS, RequestID: "fake-request", Version: launchTemplateVersionXML(lt, v)}
}

// launchTemplateVersionImage returns the ImageID of version of template id,
// for the Auto Scaling fake's rollback checks.
func (s *Server) launchTemplateVersionImage(region, id, version string) (string, error) {
	lt, aerr := s.findLaunchTemplate(region, id, "")
	if aerr != nil {
		return "", fmt.Errorf("%s", aerr.message)
	}
	v, aerr := lt.version(version)
	if aerr != nil {
		return "", fmt.Errorf("%s", aerr.message)
	}
	return v.ImageID, nil
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

// formInt reads the integer parameter name of a query-protocol request: def
// when the request omits it, else its value if check returns nil.
func formInt(req *request, name string, def int, check func(v int) *apiError) (int, *apiError) {
	if !req.Form.Has(name) {
		return def, nil
	}
	v, err := strconv.Atoi(req.Form.Get(name))
	if err != nil {
		return 0, errorf(http.StatusBadRequest, "InvalidParameterValue", "Value (%s) for parameter %s is invalid.", req.Form.Get(name), name)
	}
	if aerr := check(v); aerr != nil {
		return 0, aerr
	}
	return v, nil
}

// smallerPage is the page size for a request that asked for at most
// requested items from a fake configured with pageSize: the smaller of the
// two, where 0 means no limit.
func smallerPage(requested, pageSize int) int {
	switch {
	case requested <= 0:
		return pageSize
	case pageSize <= 0:
		return requested
	}
	return min(requested, pageSize)
}
