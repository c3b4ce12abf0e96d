package pulse_test

import (
	"errors"
	"fmt"

	"github.com/telecart-go/telecart/pulse"
)

// A campaign link carries startapp={start_param}; the storefront decodes it
// from the signed initData.
func ExampleStartParamSerializer() {
	s := pulse.NewStartParamSerializer("s3cret")

	sp, err := s.Encode(pulse.StartParam{CampaignID: "spring24", Source: "tg"})
	if err != nil {
		panic(err)
	}
	fmt.Println("https://t.me/shop_bot/app?startapp=" + sp)

	p, err := s.Decode(sp)
	fmt.Printf("%+v %v\n", p, err)

	// Without the MAC, anyone could claim any campaign.
	_, err = s.Decode("Yz1zcHJpbmcyNCZzPXRn")
	fmt.Println(errors.Is(err, pulse.ErrStartParamMAC), errors.Is(err, pulse.ErrInvalidStartParam))
	// Output:
	// https://t.me/shop_bot/app?startapp=Yz1zcHJpbmcyNCZoPTZlOGJhM2MwMDhkMiZzPXRn
	// {CampaignID:spring24 TrackingID: Source:tg Medium:} <nil>
	// true true
}

func ExampleStartParamSerializer_unsigned() {
	s := pulse.NewStartParamSerializer("") // no secret: no MAC written or required

	sp, _ := s.Encode(pulse.StartParam{CampaignID: "spring24", Source: "tg"})
	fmt.Println(sp)

	_, err := s.Decode("c3ByaW5nMjQ") // base64url of "spring24": no c= key
	fmt.Println(err)
	// Output:
	// Yz1zcHJpbmcyNCZzPXRn
	// pulse: invalid start_param: missing or malformed campaign_id (c): must match [A-Za-z0-9_-]{1,32}
}
