package httpx

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/telecart-go/telecart/tcerr"
)

// QueryInt reads the integer query parameter name of q: def when it is
// absent or empty, otherwise a whole number from lo to hi (surrounding
// spaces ignored). Anything else, a repeated parameter included, is a
// *tcerr.Error of kind Invalid whose message names the parameter and the
// range, so that every handler answers a bad page, per_page or limit in the
// same words. def need not lie in [lo, hi]: a caller may use it to tell
// "not given" apart.
func QueryInt(q url.Values, name string, def, lo, hi int) (int, error) {
	vs := q[name]
	switch {
	case len(vs) > 1:
		return 0, tcerr.Invalidf("%s is given more than once", name)
	case len(vs) == 0:
		return def, nil
	}
	s := strings.TrimSpace(vs[0])
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, tcerr.Invalidf("%s must be a whole number from %d to %d, got %.40q", name, lo, hi, s)
	}
	return n, nil
}
