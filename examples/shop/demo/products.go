package demo

// demoProduct is one row of the demo catalog; Catalog turns it into a
// telecart.Product with sized image URLs.
type demoProduct struct {
	name        string
	description string
	price       int64 // kopecks
	inStock     bool
	weight      string // shown as the "Weight" attribute when not empty
	origin      string // shown as the "Origin" attribute when not empty
}

// products is the demo catalog, in display order; product i has the id
// "p{i+1}". It is never modified, so every Catalog shares it.
var products = []demoProduct{
	// Coffee
	{"Ethiopia Yirgacheffe Coffee Beans", "Light roast with floral and bergamot notes. Whole beans, 250 g.", 89000, true, "250 g", "Ethiopia"},
	{"Colombia Supremo Coffee Beans", "Medium roast, caramel sweetness and a nutty finish. Whole beans, 250 g.", 74900, true, "250 g", "Colombia"},
	{"Brazil Santos Ground Coffee", "Chocolatey, low-acid medium roast, ground for drip and French press.", 54990, true, "250 g", "Brazil"},
	{"Espresso Blend Coffee Beans", "Dark roast of arabica and robusta for a thick crema. 1 kg bag.", 189000, true, "1 kg", ""},
	{"Kenya AA Coffee Beans", "Bright blackcurrant acidity, juicy body. Limited lot.", 112000, false, "250 g", "Kenya"},
	{"Decaf House Coffee", "Swiss Water decaffeinated medium roast, ground.", 62000, true, "250 g", ""},
	{"Cold Brew Coffee Bags", "Ten coarse-ground pouches: steep overnight in cold water.", 49900, true, "10 × 30 g", ""},
	{"Instant Coffee Gold", "Freeze-dried arabica instant coffee in a glass jar.", 39990, true, "95 g", ""},
	// Tea
	{"Assam Black Tea", "Strong malty black tea, ideal with milk. Loose leaf.", 34900, true, "100 g", "India"},
	{"Darjeeling First Flush Tea", "Delicate muscatel black tea from the spring harvest.", 79000, true, "100 g", "India"},
	{"Earl Grey Tea", "Black tea scented with natural bergamot oil. 25 tea bags.", 24900, true, "25 × 2 g", ""},
	{"Sencha Green Tea", "Steamed Japanese green tea with a fresh grassy taste.", 52000, true, "100 g", "Japan"},
	{"Jasmine Pearls Green Tea", "Hand-rolled green tea pearls scented with jasmine flowers.", 96000, false, "100 g", "China"},
	{"Milk Oolong Tea", "Creamy, buttery oolong from Taiwan's high mountains.", 68500, true, "100 g", "Taiwan"},
	{"Rooibos Vanilla Tea", "Caffeine-free red bush tea with vanilla pieces.", 29900, true, "100 g", "South Africa"},
	{"Chamomile Herbal Tea", "Whole chamomile flowers for a calm evening cup.", 19900, true, "50 g", ""},
	{"Matcha Ceremonial Grade", "Stone-ground green tea powder for whisked matcha and lattes.", 129000, true, "30 g", "Japan"},
	{"Masala Chai Spice Mix", "Black tea with cardamom, cinnamon, ginger and clove.", 27990, true, "100 g", ""},
	// Brewing
	{"Pour-Over Dripper", "Ceramic V60-style cone dripper for one to two cups.", 149000, true, "", ""},
	{"Paper Filters, 100 pcs", "Unbleached paper filters for cone drippers, size 02.", 32000, true, "", ""},
	{"French Press 600 ml", "Borosilicate glass press with a stainless steel filter.", 219000, true, "", ""},
	{"Glass Teapot with Infuser", "Heat-resistant 800 ml teapot with a removable steel infuser.", 179000, false, "", ""},
	{"Manual Coffee Grinder", "Ceramic burr hand grinder with adjustable grind size.", 349000, true, "", ""},
	{"Milk Frother", "Battery-powered whisk for foamy milk and matcha.", 59900, true, "", ""},
	// Sweets and snacks
	{"Dark Chocolate 70%", "Single-origin dark chocolate bar with cocoa from Peru.", 18990, true, "90 g", "Peru"},
	{"Milk Chocolate with Hazelnuts", "Creamy milk chocolate packed with whole roasted hazelnuts.", 15990, true, "90 g", ""},
	{"Almond Biscotti", "Twice-baked Italian cookies for dunking in coffee.", 22900, true, "200 g", "Italy"},
	{"Butter Shortbread", "Classic Scottish shortbread fingers in a gift tin.", 39900, true, "300 g", "Scotland"},
	{"Honey Cake Slice", "Layered honey cake with sour cream frosting, baked daily.", 27000, true, "150 g", ""},
	{"Buckwheat Honey", "Dark, rich honey from buckwheat fields. Glass jar.", 45900, true, "500 g", "Russia"},
	{"Salted Caramel Sauce", "Thick caramel sauce for lattes, pancakes and ice cream.", 32990, false, "250 ml", ""},
	{"Mixed Nuts", "Roasted unsalted almonds, cashews and hazelnuts.", 64900, true, "300 g", ""},
	// Dairy and extras
	{"Oat Milk Barista", "Oat drink that foams like milk. Plant-based.", 21900, true, "1 l", ""},
	{"Whole Milk 3.2%", "Fresh farm milk, pasteurized.", 12990, true, "1 l", "Russia"},
	{"Cane Sugar Cubes", "Brown cane sugar cubes for tea and coffee.", 14900, true, "500 g", ""},
	{"Gift Box: Coffee & Chocolate", "Two coffees, a dark chocolate bar and biscotti in a gift box.", 299000, true, "", ""},
}
