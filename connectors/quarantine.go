package connectors

// Defect is what the normalisers report about a refused value; connectors
// turn it into a quarantine entry.
type Defect interface {
	error
	DefectReason() (reason, field, message string)
}

// QuarantineFor builds the quarantine entry of a refused native record: the
// defect's reason and field when err is one, MALFORMED otherwise.
func QuarantineFor(stream, sourceID string, raw []byte, err error) Quarantine {
	q := Quarantine{Stream: stream, SourceID: sourceID, Reason: "MALFORMED", Message: err.Error(), Raw: raw}
	for e := err; e != nil; e = unwrap(e) {
		if d, ok := e.(Defect); ok {
			r, f, m := d.DefectReason()
			q.Reason, q.Field, q.Message = Reason(r), f, m
			break
		}
	}
	return q
}

func unwrap(err error) error {
	u, ok := err.(interface{ Unwrap() error })
	if !ok {
		return nil
	}
	return u.Unwrap()
}
