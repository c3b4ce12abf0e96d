package forms

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// validURL is FormKit's url rule: the value parses as a URL, as the
// browser's URL constructor parses it, and its protocol ("https:") is one
// of protocols, or http: or https: when none are given.
//
// It follows the URL standard's parser where a verdict can change: leading
// and trailing spaces and control characters are ignored and tabs and line
// breaks removed; http, https, ws, wss and ftp URLs need a host, which must
// not hold a character the standard forbids, and may end in a port up to
// 65535; a host ending in a number is an IPv4 address and must be a valid
// one. A host outside ASCII is accepted when it is made of letters, digits,
// marks, "-" and "." (the browser converts it to punycode).
func validURL(s string, protocols []string) bool {
	s = strings.TrimFunc(s, func(c rune) bool { return c <= ' ' })
	s = strings.Map(func(c rune) rune {
		if c == '\t' || c == '\n' || c == '\r' {
			return -1
		}
		return c
	}, s)
	colon := strings.IndexByte(s, ':')
	if colon < 1 || !validScheme(s[:colon]) {
		return false
	}
	scheme := strings.ToLower(s[:colon])
	if len(protocols) == 0 {
		protocols = []string{"http:", "https:"}
	}
	if !slices.Contains(protocols, scheme+":") {
		return false
	}
	rest := s[colon+1:]
	switch scheme {
	case "http", "https", "ws", "wss", "ftp":
		rest = strings.TrimLeft(rest, `/\`)
		if end := strings.IndexAny(rest, `/\?#`); end >= 0 {
			rest = rest[:end]
		}
		return validAuthority(rest, true)
	case "file":
		return true
	}
	if auth, ok := strings.CutPrefix(rest, "//"); ok {
		if end := strings.IndexAny(auth, "/?#"); end >= 0 {
			auth = auth[:end]
		}
		return auth == "" || validAuthority(auth, false)
	}
	return true
}

func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !alpha && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

// validAuthority checks [userinfo@]host[:port]. A special scheme's host is a
// domain or an IP address; another scheme's is opaque and only must not hold
// forbidden characters.
func validAuthority(auth string, special bool) bool {
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		auth = auth[at+1:]
	}
	host, port := auth, ""
	if strings.HasPrefix(auth, "[") {
		end := strings.IndexByte(auth, ']')
		if end < 0 {
			return false
		}
		host, port = auth[:end+1], auth[end+1:]
		if port != "" {
			if port[0] != ':' {
				return false
			}
			port = port[1:]
		}
		a, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return false
		}
	} else {
		if i := strings.LastIndexByte(auth, ':'); i >= 0 {
			host, port = auth[:i], auth[i+1:]
		}
		if host == "" {
			return !special && port == ""
		}
		if special && !validDomain(host) || !special && !validOpaqueHost(host) {
			return false
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
			return false
		}
	}
	return true
}

// forbiddenHost reports the URL standard's forbidden host code points.
func forbiddenHost(c rune) bool {
	return c < ' ' || c == 0x7f || strings.ContainsRune(" #/:<>?@[\\]^|", c)
}

func validOpaqueHost(h string) bool {
	return !strings.ContainsFunc(h, forbiddenHost)
}

func validDomain(h string) bool {
	h, ok := percentDecode(h)
	if !ok || h == "" {
		return false
	}
	for _, c := range h {
		switch {
		case forbiddenHost(c), c == '%':
			return false
		case c >= utf8.RuneSelf && !unicode.IsLetter(c) && !unicode.IsDigit(c) && !unicode.IsMark(c):
			return false
		}
	}
	labels := strings.Split(strings.ToLower(h), ".")
	if len(labels) > 1 && labels[len(labels)-1] == "" {
		labels = labels[:len(labels)-1]
	}
	if last := labels[len(labels)-1]; last != "" && (strings.Trim(last, "0123456789") == "" ||
		strings.HasPrefix(last, "0x") && strings.Trim(last[2:], "0123456789abcdef") == "") {
		return validIPv4(labels)
	}
	return true
}

// validIPv4 checks a host ending in a number as the URL standard's IPv4
// parser does: up to four parts, each decimal, 0x hexadecimal or 0 octal,
// all but the last at most 255, the last filling the remaining bytes.
func validIPv4(parts []string) bool {
	if len(parts) > 4 {
		return false
	}
	for i, p := range parts {
		n, ok := ipv4Number(p)
		if !ok {
			return false
		}
		if i < len(parts)-1 && n > 255 {
			return false
		}
		if i == len(parts)-1 && n >= 1<<(8*(5-len(parts))) {
			return false
		}
	}
	return true
}

func ipv4Number(p string) (uint64, bool) {
	if p == "" {
		return 0, false
	}
	base := 10
	switch {
	case len(p) >= 2 && (p[:2] == "0x" || p[:2] == "0X"):
		p, base = p[2:], 16
		if p == "" {
			return 0, true
		}
	case len(p) >= 2 && p[0] == '0':
		p, base = p[1:], 8
	}
	n, err := strconv.ParseUint(p, base, 64)
	if err != nil {
		// Too long for 64 bits is still a number, and too big for IPv4.
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 1 << 40, true
		}
		return 0, false
	}
	return n, true
}

// percentDecode decodes %XX sequences, leaving malformed ones as they are.
// ok is false when the result is not UTF-8.
func percentDecode(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(n))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), utf8.ValidString(b.String())
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
