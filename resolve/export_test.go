package resolve

// UpdateQuiet is Update with the keys of records changed in their
// timestamp alone (quiet), as PersonResolver tells its engine.
func (x *Persons) UpdateQuiet(changed []Record, removed []string, decisions []Decision, quiet map[string]bool) (*Result, error) {
	return x.update(changed, removed, decisions, quiet)
}
