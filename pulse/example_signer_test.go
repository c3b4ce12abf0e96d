package pulse_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/telecart-go/telecart/pulse"
)

// The sender signs each body; the receiver verifies it with the same secret.
func ExamplePayloadSigner() {
	now := time.Unix(1764100000, 0)
	signer, err := pulse.NewPayloadSigner(pulse.SignerConfig{
		Secret: "s3cret",
		Now:    func() time.Time { return now }, // the verifier's clock
	})
	if err != nil {
		panic(err)
	}

	body := []byte(`{"events":[]}`)
	sig := signer.Sign(now.Unix(), body)
	fmt.Println(pulse.HeaderSignature + ": " + sig)

	fmt.Println(signer.Verify("1764100000", sig, body))
	fmt.Println(errors.Is(signer.Verify("1764100000", sig, []byte(`{"events":[{}]}`)), pulse.ErrBadSignature))
	fmt.Println(errors.Is(signer.Verify("1764000000", signer.Sign(1764000000, body), body), pulse.ErrStaleTimestamp))
	// Output:
	// X-Pulse-Signature: v1=5885531f759853556fc7338bdcdeb8fe0ecead5df9fc0b34d0b8826c0c45821c
	// <nil>
	// true
	// true
}

func ExampleNewPayloadSigner_missingSecret() {
	_, err := pulse.NewPayloadSigner(pulse.SignerConfig{})
	fmt.Println(err)
	// Output:
	// pulse: Secret is empty; set Secret to the shared secret from the Pulse settings
}
