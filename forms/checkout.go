package forms

// CheckoutAlias is the alias of the checkout form, which always exists.
const CheckoutAlias = "checkout"

// PredefinedFields are the node names that map to the order's own fields
// (customer name, phone, e-mail, address and comment). Values of other
// nodes are kept with the order as metadata.
var PredefinedFields = []string{"name", "phone", "email", "address", "comment"}

// IsPredefined reports whether name is one of PredefinedFields.
func IsPredefined(name string) bool {
	switch name {
	case "name", "phone", "email", "address", "comment":
		return true
	}
	return false
}

// DefaultCheckout returns the checkout form a new shop starts with, in
// English with Russian translations. Each call returns a fresh copy, so
// callers may change it.
//
// Its rules say in FormKit's own terms what an order needs: required:trim,
// because a name or phone of only spaces is no name or phone (plain
// required, as in FormKit, would accept it), and a phone of digits and
// the usual separators that holds at least one digit.
func DefaultCheckout() Form {
	return Form{
		Alias: CheckoutAlias,
		Title: "Checkout",
		Schema: []Node{
			{
				Type:         TypeText,
				Name:         "name",
				Label:        "Name",
				Placeholder:  "Your name",
				Validation:   "required:trim|length:2,64",
				Labels:       map[string]string{"ru": "Имя"},
				Placeholders: map[string]string{"ru": "Ваше имя"},
			},
			{
				Type:        TypeTel,
				Name:        "phone",
				Label:       "Phone",
				Placeholder: "+7 900 000-00-00",
				Validation:  "required:trim|length:5,20|matches:/^[+0-9 ()-]+$/|contains_numeric",
				Labels:      map[string]string{"ru": "Телефон"},
			},
			{
				Type:         TypeEmail,
				Name:         "email",
				Label:        "Email",
				Placeholder:  "you@example.com",
				Help:         "Optional; we send the receipt here.",
				Validation:   "email",
				Labels:       map[string]string{"ru": "Эл. почта"},
				Placeholders: map[string]string{"ru": "ivan@example.ru"},
				Helps:        map[string]string{"ru": "Необязательно; пришлём сюда чек."},
			},
			{
				Type:       TypeSelect,
				Name:       "delivery",
				Label:      "Delivery",
				Validation: "required",
				Options: []Option{
					{Label: "Courier", Value: "courier"},
					{Label: "Pickup", Value: "pickup"},
				},
				Value:        "courier",
				Labels:       map[string]string{"ru": "Доставка"},
				OptionLabels: map[string]map[string]string{"ru": {"courier": "Курьер", "pickup": "Самовывоз"}},
			},
			{
				Type:         TypeTextarea,
				Name:         "address",
				Label:        "Address",
				Placeholder:  "Street, house, apartment",
				Help:         "Needed for courier delivery.",
				Validation:   "length:0,500",
				Labels:       map[string]string{"ru": "Адрес"},
				Placeholders: map[string]string{"ru": "Улица, дом, квартира"},
				Helps:        map[string]string{"ru": "Нужен для доставки курьером."},
			},
			{
				Type:       TypeTextarea,
				Name:       "comment",
				Label:      "Comment",
				Validation: "length:0,1000",
				Labels:     map[string]string{"ru": "Комментарий"},
			},
		},
	}
}
