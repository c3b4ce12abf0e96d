package tcerr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/telecart-go/telecart/tcerr"
)

var errSoldOut = &tcerr.Error{Kind: tcerr.Conflict, Code: "out_of_stock", Message: "out of stock"}

func TestIs(t *testing.T) {
	// Ensure errors.Is matches by Code through wrapping, whatever the
	// message, and never matches another code or an empty one.
	err := fmt.Errorf("placing: %w", tcerr.Errorf(tcerr.Conflict, "out_of_stock", "%s is sold out", "Tea"))
	if !errors.Is(err, errSoldOut) {
		t.Fatal("same code does not match")
	}
	if errors.Is(err, &tcerr.Error{Kind: tcerr.Conflict, Code: "other"}) {
		t.Fatal("another code matches")
	}
	if errors.Is(&tcerr.Error{Kind: tcerr.Invalid}, &tcerr.Error{Kind: tcerr.Invalid}) {
		t.Fatal("empty codes match")
	}
	cause := errors.New("disk full")
	if !errors.Is(&tcerr.Error{Code: "x", Err: cause}, cause) {
		t.Fatal("cause not reachable")
	}
}

func TestOf(t *testing.T) {
	// Ensure KindOf, CodeOf, FieldsOf and DetailsOf read through wrapping,
	// and a foreign error is Internal.
	err := fmt.Errorf("saving: %w", tcerr.Fields("bad", map[string]string{"name": "required"}))
	if k := tcerr.KindOf(err); k != tcerr.Validation {
		t.Errorf("KindOf = %q", k)
	}
	if c := tcerr.CodeOf(err); c != "validation_failed" {
		t.Errorf("CodeOf = %q", c)
	}
	if f := tcerr.FieldsOf(err); f["name"] != "required" {
		t.Errorf("FieldsOf = %v", f)
	}
	soldOut := fmt.Errorf("placing: %w", &tcerr.Error{Code: "out_of_stock", Details: map[string]string{"product_name": "Tea"}})
	if d := tcerr.DetailsOf(soldOut); d["product_name"] != "Tea" {
		t.Errorf("DetailsOf = %v", d)
	}
	if d := tcerr.DetailsOf(errors.New("boom")); d != nil {
		t.Errorf("DetailsOf(foreign) = %v", d)
	}
	if k := tcerr.KindOf(errors.New("boom")); k != tcerr.Internal {
		t.Errorf("KindOf(foreign) = %q", k)
	}
	if k := tcerr.KindOf(nil); k != "" {
		t.Errorf("KindOf(nil) = %q", k)
	}
	if got := tcerr.Invalidf("page must be %d..%d", 1, 9).Error(); got != "page must be 1..9" {
		t.Errorf("Error() = %q", got)
	}
}
