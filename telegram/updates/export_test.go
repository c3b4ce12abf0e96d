package updates

// ParseUpdateForTest exposes parseUpdate's result to the fuzz test.
func ParseUpdateForTest(body []byte) (int64, []byte, error) {
	u, err := parseUpdate(body)
	return u.id, u.body, err
}
