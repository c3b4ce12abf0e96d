package telegram

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
)

// The flat decoders must give encoding/json's answer whenever they answer at
// all; when they decline, decode falls back to encoding/json.

func TestDecodeUserFlat(t *testing.T) {
	cases := []struct {
		in   string
		fast bool // the flat decoder takes it
	}{
		{`{"id":279058397,"first_name":"Vladislav","last_name":"Kibenko","username":"vdkfrost","language_code":"ru","is_premium":true,"allows_write_to_pm":true,"photo_url":"https:\/\/t.me\/i\/userpic\/320\/4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg"}`, true},
		{` { "id" : -5 , "first_name" : "Анна ✓", "is_bot": false, "extra": "x", "n": 7, "z": null } `, true},
		{`{"id":1,"first_name":"A\u00e9\n\t\"\\"}`, true},
		{`{"id":1,"first_name":null}`, true},
		{`{}`, true},
		{`{"id":1,"id":2}`, true},
		{`{"ID":1}`, false},                  // folds to id
		{`{"id":1,"fırst_name":"x"}`, false}, // non-ASCII key
		{`{"id":1.5}`, false},
		{`{"id":1e3}`, false},
		{`{"id":01}`, false},
		{`{"id":"1"}`, false},
		{`{"id":1,"first_name":1}`, false},
		{`{"id":1,"x":{"a":1}}`, false},
		{`{"id":1,"x":[1]}`, false},
		{`{"id":1,"first_name":"\ud83d\ude00"}`, false}, // surrogates
		{`{"id":1,"first_name":"a` + "\xff" + `"}`, false},
		{`{"id":1,}`, false},
		{`{"id":1} x`, false},
		{`{"id":99999999999999999999}`, false},
		{`{"id":1,"is_bot":tru}`, false},
		{`{"id":1,"first_name":"a` + "\n" + `"}`, false},
		{`{"id\u0041":1}`, false},
		{`null`, false},
	}
	for _, c := range cases {
		var fast User
		ok := decodeUserFlat(c.in, &fast)
		if ok != c.fast {
			t.Errorf("%s: flat decoder took it = %v, want %v", c.in, ok, c.fast)
		}
		if ok {
			var want User
			if err := json.Unmarshal([]byte(c.in), &want); err != nil {
				t.Errorf("%s: flat decoder took what encoding/json refuses: %v", c.in, err)
			} else if !reflect.DeepEqual(fast, want) {
				t.Errorf("%s: flat %+v, encoding/json %+v", c.in, fast, want)
			}
		}
	}
}

func FuzzDecodeUserFlat(f *testing.F) {
	f.Add(`{"id":279058397,"first_name":"Vladislav","photo_url":"https:\/\/t.me\/x.svg","allows_write_to_pm":true}`)
	f.Add(`{"id":-1,"first_name":"\u0416","x":null,"y":12,"z":"q"}`)
	f.Add(`{"Id":1}`)
	f.Add(`{"id":1,"first_name":"\ud83d"}`)
	f.Fuzz(func(t *testing.T, in string) {
		var fast User
		if decodeUserFlat(in, &fast) {
			var want User
			if err := json.Unmarshal([]byte(in), &want); err != nil {
				t.Fatalf("flat decoder took what encoding/json refuses (%v): %q", err, in)
			}
			if !reflect.DeepEqual(fast, want) {
				t.Fatalf("%q: flat %+v, encoding/json %+v", in, fast, want)
			}
		}
		var fc Chat
		if decodeChatFlat(in, &fc) {
			var want Chat
			if err := json.Unmarshal([]byte(in), &want); err != nil || !reflect.DeepEqual(fc, want) {
				t.Fatalf("%q: flat chat %+v, encoding/json %+v (%v)", in, fc, want, err)
			}
		}
	})
}

func FuzzQueryUnescape(f *testing.F) {
	f.Add("a%20b+c")
	f.Add("%7B%22id%22%3A1%7D")
	f.Add("%")
	f.Add("%4")
	f.Add("%zz+")
	f.Add("plain")
	f.Fuzz(func(t *testing.T, in string) {
		got, ok := queryUnescape(in)
		want, err := url.QueryUnescape(in)
		if ok != (err == nil) || (ok && got != want) {
			t.Fatalf("%q: got %q %v, url.QueryUnescape %q %v", in, got, ok, want, err)
		}
	})
}
