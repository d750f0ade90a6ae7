package fakeaws

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ServiceAutoScaling is Amazon EC2 Auto Scaling's name in the SigV4
// credential scope. It speaks awsQuery: form-encoded Action=<Op>, XML
// responses, ErrorResponse errors.
const ServiceAutoScaling = "autoscaling"

const autoScalingXMLNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"

// AutoScalingGroup is an Auto Scaling group held by the fake. It launches
// from a launch template (see AddLaunchTemplate).
type AutoScalingGroup struct {
	Name               string
	LaunchTemplateID   string
	LaunchTemplateName string
	// LaunchTemplateVersion is a version number, $Latest or $Default.
	LaunchTemplateVersion             string
	MinSize, MaxSize, DesiredCapacity int32
}

// Instance refresh statuses, as DescribeInstanceRefreshes reports them.
const (
	RefreshPending            = "Pending"
	RefreshInProgress         = "InProgress"
	RefreshBaking             = "Baking"
	RefreshCancelling         = "Cancelling"
	RefreshRollbackInProgress = "RollbackInProgress"
	RefreshSuccessful         = "Successful"
	RefreshFailed             = "Failed"
	RefreshCancelled          = "Cancelled"
	RefreshRollbackSuccessful = "RollbackSuccessful"
	RefreshRollbackFailed     = "RollbackFailed"
)

// refreshActive reports whether a refresh in status blocks another one.
func refreshActive(status string) bool {
	switch status {
	case RefreshPending, RefreshInProgress, RefreshBaking, RefreshCancelling, RefreshRollbackInProgress:
		return true
	}
	return false
}

// InstanceRefresh is an instance refresh held by the fake.
type InstanceRefresh struct {
	ID           string
	GroupName    string
	Status       string
	StatusReason string
	StartTime    time.Time
	EndTime      time.Time
	// DesiredLaunchTemplateID and DesiredLaunchTemplateVersion are the
	// refresh's desired configuration; both are empty when it has none.
	DesiredLaunchTemplateID      string
	DesiredLaunchTemplateVersion string
	Strategy                     string
	Preferences                  RefreshPreferences
}

// RefreshPreferences are the preferences a refresh was started with,
// exactly as sent: a nil pointer or slice was not sent.
type RefreshPreferences struct {
	MinHealthyPercentage      *int32
	MaxHealthyPercentage      *int32
	InstanceWarmup            *int32
	CheckpointPercentages     []int32
	CheckpointDelay           *int32
	SkipMatching              *bool
	AutoRollback              *bool
	AlarmNames                []string // AlarmSpecification.Alarms
	ScaleInProtectedInstances string
	StandbyInstances          string
}

// autoScalingState is the Auto Scaling state of one server, in a side table
// like launchTemplateState, and only touched with the server's mutex held.
type autoScalingState struct {
	groups    map[string]map[string]*AutoScalingGroup // region -> name -> group
	refreshes map[string][]*InstanceRefresh           // region -> refreshes, oldest first
	seq       int
}

var autoScalingStates sync.Map // *Server -> *autoScalingState

func (s *Server) autoScaling() *autoScalingState {
	v, _ := autoScalingStates.LoadOrStore(s, &autoScalingState{
		groups:    map[string]map[string]*AutoScalingGroup{},
		refreshes: map[string][]*InstanceRefresh{},
	})
	return v.(*autoScalingState)
}

// AddAutoScalingGroup creates or replaces group g in region. It records no call.
func (s *Server) AddAutoScalingGroup(region string, g AutoScalingGroup) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.autoScaling()
	if st.groups[region] == nil {
		st.groups[region] = map[string]*AutoScalingGroup{}
	}
	st.groups[region][g.Name] = &g
}

// AutoScalingGroup returns a copy of the group name in region.
func (s *Server) AutoScalingGroup(region, name string) (AutoScalingGroup, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.autoScaling().groups[region][name]
	if !ok {
		return AutoScalingGroup{}, false
	}
	return *g, true
}

// AddInstanceRefresh records a refresh of r.GroupName in region, as if
// someone had started it, and returns its id. Empty fields default to a
// generated ID, StartTime now, Status InProgress and Strategy Rolling. It
// records no call and checks nothing, so tests can seed any history.
func (s *Server) AddInstanceRefresh(region string, r InstanceRefresh) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addRefresh(region, r).ID
}

func (s *Server) addRefresh(region string, r InstanceRefresh) *InstanceRefresh {
	st := s.autoScaling()
	st.seq++
	if r.ID == "" {
		r.ID = fmt.Sprintf("0f1e2d3c-0000-4000-8000-%012d", st.seq)
	}
	if r.StartTime.IsZero() {
		// Strictly increasing, so "newest first" is well defined even
		// within one clock tick.
		r.StartTime = time.Now().UTC().Truncate(time.Millisecond).Add(time.Duration(st.seq) * time.Millisecond)
	}
	if r.Status == "" {
		r.Status = RefreshInProgress
	}
	if r.Strategy == "" {
		r.Strategy = "Rolling"
	}
	st.refreshes[region] = append(st.refreshes[region], &r)
	return &r
}

// InstanceRefreshes returns copies of the refreshes of group in region,
// oldest first.
func (s *Server) InstanceRefreshes(region, group string) []InstanceRefresh {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []InstanceRefresh
	for _, r := range s.autoScaling().refreshes[region] {
		if r.GroupName == group {
			out = append(out, *r)
		}
	}
	return out
}

// CompleteInstanceRefresh ends the active refresh id with a final status
// (Successful, Failed, Cancelled, RollbackSuccessful or RollbackFailed).
// Like Auto Scaling, a Successful refresh with a desired configuration
// writes it to the group; the others leave the group's configuration as it
// was before the refresh.
func (s *Server) CompleteInstanceRefresh(region, id, status string) error {
	switch status {
	case RefreshSuccessful, RefreshFailed, RefreshCancelled, RefreshRollbackSuccessful, RefreshRollbackFailed:
	default:
		return fmt.Errorf("fakeaws: %q is not a final instance refresh status", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.autoScaling()
	for _, r := range st.refreshes[region] {
		if r.ID != id {
			continue
		}
		if !refreshActive(r.Status) {
			return fmt.Errorf("fakeaws: instance refresh %s is already %s", id, r.Status)
		}
		r.Status, r.EndTime = status, time.Now().UTC()
		if g := st.groups[region][r.GroupName]; g != nil && status == RefreshSuccessful && r.DesiredLaunchTemplateID != "" {
			g.LaunchTemplateID, g.LaunchTemplateVersion = r.DesiredLaunchTemplateID, r.DesiredLaunchTemplateVersion
			if lt, ok := s.launchTemplates().byRegion[region][g.LaunchTemplateID]; ok {
				g.LaunchTemplateName = lt.Name
			}
		}
		return nil
	}
	return fmt.Errorf("fakeaws: no instance refresh %s in %s", id, region)
}

func (s *Server) autoScalingHandler(op string) handlerFunc {
	switch op {
	case "DescribeAutoScalingGroups":
		return s.asDescribeAutoScalingGroups
	case "DescribeInstanceRefreshes":
		return s.asDescribeInstanceRefreshes
	case "StartInstanceRefresh":
		return s.asStartInstanceRefresh
	}
	return nil
}

type asResponseMetadata struct {
	RequestID string `xml:"RequestId"`
}

var fakeMetadata = asResponseMetadata{RequestID: "fake-request"}

// members returns the values of prefix.member.1, prefix.member.2, ...
func members(req *request, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := req.Form[prefix+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

type asLaunchTemplateXML struct {
	LaunchTemplateID   string `xml:"LaunchTemplateId,omitempty"`
	LaunchTemplateName string `xml:"LaunchTemplateName,omitempty"`
	Version            string `xml:"Version,omitempty"`
}

type asGroupXML struct {
	AutoScalingGroupName string
	LaunchTemplate       *asLaunchTemplateXML `xml:",omitempty"`
	MinSize              int32
	MaxSize              int32
	DesiredCapacity      int32
}

// asDescribeAutoScalingGroups describes the groups named by
// AutoScalingGroupNames.member.N (unknown names are left out, as Auto
// Scaling does), or every group, by name, with paging via MaxRecords and
// NextToken. Filters are not supported.
func (s *Server) asDescribeAutoScalingGroups(req *request) (any, *apiError) {
	if req.Form.Get("Filters.member.1.Name") != "" {
		return nil, errorf(http.StatusBadRequest, "ValidationError", "fakeaws does not support Filters on DescribeAutoScalingGroups")
	}
	groups := s.autoScaling().groups[req.region]
	names := members(req, "AutoScalingGroupNames")
	if len(names) == 0 {
		for n := range groups {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	var matched []asGroupXML
	for _, n := range names {
		g, ok := groups[n]
		if !ok {
			continue
		}
		x := asGroupXML{AutoScalingGroupName: g.Name, MinSize: g.MinSize, MaxSize: g.MaxSize, DesiredCapacity: g.DesiredCapacity}
		if g.LaunchTemplateID != "" || g.LaunchTemplateName != "" {
			x.LaunchTemplate = &asLaunchTemplateXML{LaunchTemplateID: g.LaunchTemplateID, LaunchTemplateName: g.LaunchTemplateName, Version: g.LaunchTemplateVersion}
		}
		matched = append(matched, x)
	}
	// MaxRecords is 1-100, default 50.
	size, aerr := formInt(req, "MaxRecords", 50, func(v int) *apiError {
		switch {
		case v < 1:
			return errorf(http.StatusBadRequest, "ValidationError",
				"1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value greater than or equal to 1", v)
		case v > 100:
			return errorf(http.StatusBadRequest, "ValidationError",
				"1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100", v)
		}
		return nil
	})
	if aerr != nil {
		return nil, aerr
	}
	page, next, aerr := paginate(len(matched), size, req.Form.Get("NextToken"))
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		XMLName   xml.Name           `xml:"DescribeAutoScalingGroupsResponse"`
		XMLNS     string             `xml:"xmlns,attr"`
		Groups    []asGroupXML       `xml:"DescribeAutoScalingGroupsResult>AutoScalingGroups>member"`
		NextToken string             `xml:"DescribeAutoScalingGroupsResult>NextToken,omitempty"`
		Metadata  asResponseMetadata `xml:"ResponseMetadata"`
	}{XMLNS: autoScalingXMLNS, Groups: matched[page[0]:page[1]], NextToken: next, Metadata: fakeMetadata}, nil
}

type asPreferencesXML struct {
	MinHealthyPercentage      *int32   `xml:",omitempty"`
	MaxHealthyPercentage      *int32   `xml:",omitempty"`
	InstanceWarmup            *int32   `xml:",omitempty"`
	CheckpointPercentages     []int32  `xml:"CheckpointPercentages>member,omitempty"`
	CheckpointDelay           *int32   `xml:",omitempty"`
	SkipMatching              *bool    `xml:",omitempty"`
	AutoRollback              *bool    `xml:",omitempty"`
	AlarmNames                []string `xml:"AlarmSpecification>Alarms>member,omitempty"`
	ScaleInProtectedInstances string   `xml:",omitempty"`
	StandbyInstances          string   `xml:",omitempty"`
}

type asRefreshXML struct {
	InstanceRefreshID     string `xml:"InstanceRefreshId"`
	AutoScalingGroupName  string
	Status                string
	StatusReason          string `xml:",omitempty"`
	StartTime             string
	EndTime               string               `xml:",omitempty"`
	DesiredLaunchTemplate *asLaunchTemplateXML `xml:"DesiredConfiguration>LaunchTemplate,omitempty"`
	Preferences           asPreferencesXML
	Strategy              string
}

const isoMillis = "2006-01-02T15:04:05.000Z"

// asDescribeInstanceRefreshes describes the refreshes of one group, newest
// first, optionally only InstanceRefreshIds.member.N, with paging via
// MaxRecords (default 50) and NextToken.
func (s *Server) asDescribeInstanceRefreshes(req *request) (any, *apiError) {
	group := req.Form.Get("AutoScalingGroupName")
	if group == "" {
		return nil, errorf(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value null at 'autoScalingGroupName' failed to satisfy constraint: Member must not be null")
	}
	ids := map[string]bool{}
	for _, id := range members(req, "InstanceRefreshIds") {
		ids[id] = true
	}
	all := s.autoScaling().refreshes[req.region]
	var matched []asRefreshXML
	for i := len(all) - 1; i >= 0; i-- {
		r := all[i]
		if r.GroupName != group || (len(ids) > 0 && !ids[r.ID]) {
			continue
		}
		x := asRefreshXML{
			InstanceRefreshID: r.ID, AutoScalingGroupName: r.GroupName, Status: r.Status, StatusReason: r.StatusReason,
			StartTime: r.StartTime.UTC().Format(isoMillis), Strategy: r.Strategy,
			Preferences: asPreferencesXML(r.Preferences),
		}
		if !r.EndTime.IsZero() {
			x.EndTime = r.EndTime.UTC().Format(isoMillis)
		}
		if r.DesiredLaunchTemplateID != "" {
			x.DesiredLaunchTemplate = &asLaunchTemplateXML{LaunchTemplateID: r.DesiredLaunchTemplateID, Version: r.DesiredLaunchTemplateVersion}
		}
		matched = append(matched, x)
	}
	size := 50
	if v, err := strconv.Atoi(req.Form.Get("MaxRecords")); err == nil && v > 0 {
		if v > 100 {
			return nil, errorf(http.StatusBadRequest, "ValidationError", "MaxRecords must be at most 100")
		}
		size = v
	}
	page, next, aerr := paginate(len(matched), size, req.Form.Get("NextToken"))
	if aerr != nil {
		return nil, aerr
	}
	return struct {
		XMLName   xml.Name           `xml:"DescribeInstanceRefreshesResponse"`
		XMLNS     string             `xml:"xmlns,attr"`
		Refreshes []asRefreshXML     `xml:"DescribeInstanceRefreshesResult>InstanceRefreshes>member"`
		NextToken string             `xml:"DescribeInstanceRefreshesResult>NextToken,omitempty"`
		Metadata  asResponseMetadata `xml:"ResponseMetadata"`
	}{XMLNS: autoScalingXMLNS, Refreshes: matched[page[0]:page[1]], NextToken: next, Metadata: fakeMetadata}, nil
}

var knownPreference = regexp.MustCompile(`^Preferences\.(MinHealthyPercentage|MaxHealthyPercentage|InstanceWarmup|CheckpointDelay|SkipMatching|AutoRollback|ScaleInProtectedInstances|StandbyInstances|CheckpointPercentages\.member\.\d+|AlarmSpecification\.Alarms\.member\.\d+)$`)

// asStartInstanceRefresh starts a refresh in status InProgress. It enforces
// what the golden-AMI functions rely on: one active refresh per group
// (InstanceRefreshInProgress), auto rollback only with a desired
// configuration and a group on a numbered launch template version whose AMI
// is not an SSM alias, and the documented
// ranges of the preferences. StartInstanceRefresh's model has no error
// shape for an irreversible refresh (IrreversibleInstanceRefreshFault
// belongs to RollbackInstanceRefresh), so those refusals are
// ValidationError. Mixed instances policies and BakeTime are not modelled
// and are rejected. MaxHealthyPercentage is recorded, not acted on (the
// fake replaces instances at once), after AWS's checks: 100 to 200, with
// MinHealthyPercentage, at most 100 above it.
func (s *Server) asStartInstanceRefresh(req *request) (any, *apiError) {
	f := req.Form
	name := f.Get("AutoScalingGroupName")
	g, ok := s.autoScaling().groups[req.region][name]
	if !ok {
		return nil, errorf(http.StatusBadRequest, "ValidationError", "AutoScalingGroup name not found - AutoScalingGroup %s not found", name)
	}
	for key := range f {
		if (strings.HasPrefix(key, "Preferences.") && !knownPreference.MatchString(key)) ||
			strings.HasPrefix(key, "DesiredConfiguration.MixedInstancesPolicy") {
			return nil, errorf(http.StatusBadRequest, "ValidationError", "fakeaws does not model %s", key)
		}
	}
	r := InstanceRefresh{GroupName: name, Strategy: f.Get("Strategy")}
	if r.Strategy != "" && r.Strategy != "Rolling" {
		return nil, errorf(http.StatusBadRequest, "ValidationError", "fakeaws supports only the Rolling strategy, got %q", r.Strategy)
	}
	p, aerr := parsePreferences(req)
	if aerr != nil {
		return nil, aerr
	}
	r.Preferences = p
	if id := f.Get("DesiredConfiguration.LaunchTemplate.LaunchTemplateId"); id != "" || f.Get("DesiredConfiguration.LaunchTemplate.LaunchTemplateName") != "" {
		lt, aerr := s.findLaunchTemplate(req.region, id, f.Get("DesiredConfiguration.LaunchTemplate.LaunchTemplateName"))
		if aerr != nil {
			return nil, errorf(http.StatusBadRequest, "ValidationError", "desired configuration: %s", aerr.message)
		}
		version := f.Get("DesiredConfiguration.LaunchTemplate.Version")
		if version == "" {
			version = "$Default"
		}
		if _, aerr := lt.version(version); aerr != nil {
			return nil, errorf(http.StatusBadRequest, "ValidationError", "desired configuration: %s", aerr.message)
		}
		r.DesiredLaunchTemplateID, r.DesiredLaunchTemplateVersion = lt.ID, version
	}
	for _, other := range s.autoScaling().refreshes[req.region] {
		if other.GroupName == name && refreshActive(other.Status) {
			return nil, errorf(http.StatusBadRequest, "InstanceRefreshInProgress", "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")
		}
	}
	if p.AutoRollback != nil && *p.AutoRollback {
		switch {
		case r.DesiredLaunchTemplateID == "":
			return nil, errorf(http.StatusBadRequest, "ValidationError", "Auto rollback requires a desired configuration.")
		case g.LaunchTemplateVersion == "$Latest" || g.LaunchTemplateVersion == "$Default" || g.LaunchTemplateVersion == "":
			return nil, errorf(http.StatusBadRequest, "ValidationError", "The Auto Scaling group uses the launch template's %s version, which cannot be rolled back to.", g.LaunchTemplateVersion)
		}
		image, err := s.launchTemplateVersionImage(req.region, g.LaunchTemplateID, g.LaunchTemplateVersion)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "ValidationError", "the group's launch template: %v", err)
		}
		if strings.HasPrefix(image, "resolve:ssm:") {
			return nil, errorf(http.StatusBadRequest, "ValidationError", "The Auto Scaling group's launch template uses a Systems Manager parameter (%s) instead of an AMI ID.", image)
		}
	}
	return struct {
		XMLName  xml.Name           `xml:"StartInstanceRefreshResponse"`
		XMLNS    string             `xml:"xmlns,attr"`
		ID       string             `xml:"StartInstanceRefreshResult>InstanceRefreshId"`
		Metadata asResponseMetadata `xml:"ResponseMetadata"`
	}{XMLNS: autoScalingXMLNS, ID: s.addRefresh(req.region, r).ID, Metadata: fakeMetadata}, nil
}

func parsePreferences(req *request) (RefreshPreferences, *apiError) {
	var p RefreshPreferences
	var aerr *apiError
	intPref := func(key string, lo, hi int64) *int32 {
		v, ok := req.Form["Preferences."+key]
		if !ok || aerr != nil {
			return nil
		}
		n, err := strconv.ParseInt(v[0], 10, 32)
		if err != nil || n < lo || n > hi {
			aerr = errorf(http.StatusBadRequest, "ValidationError", "Preferences.%s %q is not an integer from %d to %d", key, v[0], lo, hi)
			return nil
		}
		i := int32(n)
		return &i
	}
	boolPref := func(key string) *bool {
		v, ok := req.Form["Preferences."+key]
		if !ok || aerr != nil {
			return nil
		}
		b, err := strconv.ParseBool(v[0])
		if err != nil {
			aerr = errorf(http.StatusBadRequest, "ValidationError", "Preferences.%s %q is not a boolean", key, v[0])
			return nil
		}
		return &b
	}
	p.MinHealthyPercentage = intPref("MinHealthyPercentage", 0, 100)
	p.MaxHealthyPercentage = intPref("MaxHealthyPercentage", 100, 200)
	p.InstanceWarmup = intPref("InstanceWarmup", 0, 1<<31-1)
	p.CheckpointDelay = intPref("CheckpointDelay", 0, 172800)
	p.SkipMatching = boolPref("SkipMatching")
	p.AutoRollback = boolPref("AutoRollback")
	if aerr != nil {
		return RefreshPreferences{}, aerr
	}
	if p.MaxHealthyPercentage != nil {
		if p.MinHealthyPercentage == nil {
			return RefreshPreferences{}, errorf(http.StatusBadRequest, "ValidationError", "MaxHealthyPercentage requires MinHealthyPercentage")
		}
		if *p.MaxHealthyPercentage-*p.MinHealthyPercentage > 100 {
			return RefreshPreferences{}, errorf(http.StatusBadRequest, "ValidationError",
				"The difference between MaxHealthyPercentage (%d) and MinHealthyPercentage (%d) cannot be greater than 100", *p.MaxHealthyPercentage, *p.MinHealthyPercentage)
		}
	}
	p.ScaleInProtectedInstances = req.Form.Get("Preferences.ScaleInProtectedInstances")
	p.StandbyInstances = req.Form.Get("Preferences.StandbyInstances")
	for _, v := range members(req, "Preferences.CheckpointPercentages") {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 || n > 100 || (len(p.CheckpointPercentages) > 0 && int32(n) <= p.CheckpointPercentages[len(p.CheckpointPercentages)-1]) {
			return RefreshPreferences{}, errorf(http.StatusBadRequest, "ValidationError", "CheckpointPercentages must be unique integers from 1 to 100 in ascending order, got %q", v)
		}
		p.CheckpointPercentages = append(p.CheckpointPercentages, int32(n))
	}
	if p.CheckpointDelay != nil && len(p.CheckpointPercentages) == 0 {
		return RefreshPreferences{}, errorf(http.StatusBadRequest, "ValidationError", "CheckpointDelay requires CheckpointPercentages")
	}
	p.AlarmNames = members(req, "Preferences.AlarmSpecification.Alarms")
	if len(p.AlarmNames) > 10 {
		return RefreshPreferences{}, errorf(http.StatusBadRequest, "ValidationError", "AlarmSpecification accepts at most 10 alarms, got %d", len(p.AlarmNames))
	}
	return p, nil
}

func init() {
	register(ServiceAutoScaling, service{Protocol: ProtocolQuery,
		Handler: func(s *Server, _, op string) handlerFunc { return s.autoScalingHandler(op) }})
}
