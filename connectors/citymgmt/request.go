package citymgmt

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// request is a GeoReport v2 service request, in either format. Real
// endpoints and the spec's own examples write ids and codes as JSON
// numbers or strings, coordinates as numbers or strings (empty or null
// when unknown), and omit optional fields or send them as null; JSON is
// therefore read through wireRequest, which accepts every such form, so a
// request reads alike in JSON and XML. Unknown fields are ignored in both.
type request struct {
	ServiceRequestID  string   `xml:"service_request_id"`
	Status            string   `xml:"status"`
	StatusNotes       string   `xml:"status_notes"`
	ServiceName       string   `xml:"service_name"`
	ServiceCode       string   `xml:"service_code"`
	Description       string   `xml:"description"`
	AgencyResponsible string   `xml:"agency_responsible"`
	RequestedDatetime string   `xml:"requested_datetime"`
	UpdatedDatetime   string   `xml:"updated_datetime"`
	ExpectedDatetime  string   `xml:"expected_datetime"`
	Address           string   `xml:"address"`
	Lat               coord    `xml:"lat"`
	Long              coord    `xml:"long"`
	Extended          *extAttr `xml:"extended_attributes"`
}

// extAttr are the system's extended attributes.
type extAttr struct {
	WorkflowState string        `xml:"workflow_state"`
	Tier          string        `xml:"tier"`
	GridCode      string        `xml:"grid_code"`
	Deadline      string        `xml:"deadline"`
	History       []historyStep `xml:"history>step"`
	// Extension: the reporter of a hotline or public report.
	ReporterName    string `xml:"reporter_name"`
	ReporterPhone   string `xml:"reporter_phone"`
	ReporterAddress string `xml:"reporter_address"`
}

type historyStep struct {
	State string `xml:"state"`
	At    string `xml:"at"`
	Actor string `xml:"actor"`
	Note  string `xml:"note"`
}

// wireRequest is the JSON form of a request.
type wireRequest struct {
	ServiceRequestID  text  `json:"service_request_id"`
	Status            text  `json:"status"`
	StatusNotes       text  `json:"status_notes"`
	ServiceName       text  `json:"service_name"`
	ServiceCode       text  `json:"service_code"`
	Description       text  `json:"description"`
	AgencyResponsible text  `json:"agency_responsible"`
	RequestedDatetime text  `json:"requested_datetime"`
	UpdatedDatetime   text  `json:"updated_datetime"`
	ExpectedDatetime  text  `json:"expected_datetime"`
	Address           text  `json:"address"`
	Lat               coord `json:"lat"`
	Long              coord `json:"long"`
	Extended          *struct {
		WorkflowState   text `json:"workflow_state"`
		Tier            text `json:"tier"`
		GridCode        text `json:"grid_code"`
		Deadline        text `json:"deadline"`
		ReporterName    text `json:"reporter_name"`
		ReporterPhone   text `json:"reporter_phone"`
		ReporterAddress text `json:"reporter_address"`
		History         []struct {
			State text `json:"state"`
			At    text `json:"at"`
			Actor text `json:"actor"`
			Note  text `json:"note"`
		} `json:"history"`
	} `json:"extended_attributes"`
}

// UnmarshalJSON reads a request in any of the JSON forms endpoints use.
func (r *request) UnmarshalJSON(b []byte) error {
	var w wireRequest
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = w.request()
	return nil
}

// request is the request a decoded wire form holds.
func (w *wireRequest) request() request {
	r := request{ServiceRequestID: string(w.ServiceRequestID), Status: string(w.Status), StatusNotes: string(w.StatusNotes),
		ServiceName: string(w.ServiceName), ServiceCode: string(w.ServiceCode), Description: string(w.Description),
		AgencyResponsible: string(w.AgencyResponsible), RequestedDatetime: string(w.RequestedDatetime),
		UpdatedDatetime: string(w.UpdatedDatetime), ExpectedDatetime: string(w.ExpectedDatetime), Address: string(w.Address),
		Lat: w.Lat, Long: w.Long}
	if e := w.Extended; e != nil {
		r.Extended = &extAttr{WorkflowState: string(e.WorkflowState), Tier: string(e.Tier), GridCode: string(e.GridCode), Deadline: string(e.Deadline),
			ReporterName: string(e.ReporterName), ReporterPhone: string(e.ReporterPhone), ReporterAddress: string(e.ReporterAddress)}
		for _, h := range e.History {
			r.Extended.History = append(r.Extended.History, historyStep{State: string(h.State), At: string(h.At), Actor: string(h.Actor), Note: string(h.Note)})
		}
	}
	return r
}

// record converts a request to the channel-neutral Record. A position is
// absent when either coordinate is; a coordinate that is no number becomes
// NaN, which the normaliser refuses as BAD_COORDINATES.
func (r request) record() Record {
	out := Record{ID: strings.TrimSpace(r.ServiceRequestID), Status: r.Status, ServiceCode: strings.TrimSpace(r.ServiceCode),
		ServiceName: r.ServiceName, Description: r.Description, Agency: r.AgencyResponsible, Address: r.Address,
		Requested: r.RequestedDatetime, Updated: r.UpdatedDatetime, Deadline: r.ExpectedDatetime}
	if !r.Lat.given() || !r.Long.given() {
		out.NoPosition = true
	} else {
		out.Lat, out.Long = r.Lat.value(), r.Long.value()
		out.PositionText = r.Lat.Text + "," + r.Long.Text
	}
	if e := r.Extended; e != nil {
		out.Step, out.Tier, out.GridCode = e.WorkflowState, e.Tier, e.GridCode
		out.ReporterName, out.ReporterPhone, out.ReporterAddress = e.ReporterName, e.ReporterPhone, e.ReporterAddress
		if e.Deadline != "" {
			out.Deadline = e.Deadline
		}
		for _, h := range e.History {
			out.History = append(out.History, Step{State: h.State, At: h.At, Actor: h.Actor, Note: h.Note})
		}
	}
	return out
}

// text is a JSON value read as text: a string as itself, a number or
// boolean as written, null as empty. An object or array is an error.
type text string

// UnmarshalJSON implements json.Unmarshaler.
func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
	case b[0] == '"':
		// A string without escapes, in valid UTF-8, is its bytes between
		// the quotes: the decoder handing b over has checked the document,
		// so the quotes close it and no control character is inside. The
		// others (escapes, bytes json replaces) take encoding/json's way;
		// it validated every string again, a fifth of decoding a page.
		if len(b) >= 2 && b[len(b)-1] == '"' {
			if in := b[1 : len(b)-1]; bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
				*t = text(in)
				return nil
			}
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("an object or array where a value belongs: %.40s", b)
	default:
		*t = text(b)
	}
	return nil
}

// coord is a coordinate as written: a JSON number or a string holding one,
// or XML text. Null, an empty string and an absent field leave it empty.
type coord struct {
	Text string
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *coord) UnmarshalJSON(b []byte) error {
	var t text
	if err := t.UnmarshalJSON(b); err != nil {
		return err
	}
	c.Text = strings.TrimSpace(string(t))
	return nil
}

// UnmarshalText implements encoding.TextUnmarshaler (the XML form).
func (c *coord) UnmarshalText(b []byte) error {
	c.Text = strings.TrimSpace(string(b))
	return nil
}

func (c coord) given() bool { return c.Text != "" }

// value is the coordinate, NaN when the text is no finite number.
func (c coord) value() float64 {
	v, err := strconv.ParseFloat(c.Text, 64)
	if err != nil || math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}

// salvageID reads the service_request_id of a request that did not decode
// as a whole, so that its quarantine entry still names it; empty when even
// that cannot be read.
func salvageID(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '<' {
		var v struct {
			ID string `xml:"service_request_id"`
		}
		_ = xml.Unmarshal(raw, &v)
		return strings.TrimSpace(v.ID)
	}
	var v struct {
		ID text `json:"service_request_id"`
	}
	if json.Unmarshal(raw, &v) == nil {
		return strings.TrimSpace(string(v.ID))
	}
	// The id field alone, when the rest of the object is broken.
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return ""
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return ""
		}
		if key == "service_request_id" {
			var id text
			if id.UnmarshalJSON(val) == nil {
				return strings.TrimSpace(string(id))
			}
			return ""
		}
	}
	return ""
}
