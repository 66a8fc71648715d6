package etc

// FieldError is the one shape every part's config validation returns:
// which field of the file is wrong, named as the file writes it
// ("limits.idle_timeout", "host_packages.10123"), and why. The daemon
// adds the file's name when it reports it.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Problem
	}
	return e.Field + ": " + e.Problem
}
