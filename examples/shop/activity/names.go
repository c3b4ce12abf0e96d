package activity

// person is a name in the shop's customers: Russian names keep a Latin
// spelling for usernames.
type person struct{ name, latin string }

var (
	enFirst = []person{{"James", ""}, {"Emma", ""}, {"Oliver", ""}, {"Sophia", ""}, {"Liam", ""}, {"Olivia", ""},
		{"Noah", ""}, {"Ava", ""}, {"Lucas", ""}, {"Mia", ""}, {"Ethan", ""}, {"Grace", ""}, {"Henry", ""},
		{"Chloe", ""}, {"Daniel", ""}, {"Alice", ""}, {"Samuel", ""}, {"Isla", ""}, {"Jack", ""}, {"Ruby", ""}}
	enLast = []person{{"Smith", ""}, {"Brown", ""}, {"Taylor", ""}, {"Wilson", ""}, {"Evans", ""}, {"Walker", ""},
		{"Wright", ""}, {"Green", ""}, {"Hall", ""}, {"Clarke", ""}, {"Baker", ""}, {"Turner", ""}, {"Hughes", ""},
		{"Parker", ""}, {"Cooper", ""}, {"Reed", ""}}
	ruFirst = []person{{"Александр", "alexander"}, {"Мария", "maria"}, {"Дмитрий", "dmitry"}, {"Анна", "anna"},
		{"Иван", "ivan"}, {"Екатерина", "ekaterina"}, {"Сергей", "sergey"}, {"Ольга", "olga"},
		{"Михаил", "mikhail"}, {"Наталья", "natalia"}, {"Алексей", "alexey"}, {"Татьяна", "tatiana"},
		{"Андрей", "andrey"}, {"Елена", "elena"}, {"Никита", "nikita"}, {"Дарья", "daria"},
		{"Павел", "pavel"}, {"Юлия", "yulia"}, {"Артём", "artem"}, {"Ксения", "ksenia"}}
	ruLast = []person{{"Иванов", "ivanov"}, {"Смирнов", "smirnov"}, {"Кузнецов", "kuznetsov"}, {"Попов", "popov"},
		{"Васильев", "vasiliev"}, {"Петров", "petrov"}, {"Соколов", "sokolov"}, {"Михайлов", "mikhailov"},
		{"Новиков", "novikov"}, {"Фёдоров", "fedorov"}, {"Морозов", "morozov"}, {"Волков", "volkov"},
		{"Лебедев", "lebedev"}, {"Козлов", "kozlov"}, {"Орлов", "orlov"}, {"Зайцев", "zaitsev"}}
	streets = []string{"Tverskaya 12, apt 4", "Nevsky 88, apt 15", "Baker Street 221b", "Arbat 5, apt 31",
		"Sadovaya 17", "Lenina 3, apt 9", "High Street 40", "Mira 101, apt 77"}
	searches = []string{"coffee", "green tea", "matcha", "chocolate", "кофе", "чай", "honey", "grinder", "decaf"}
)

// feminine reports whether a Russian first name takes the feminine surname.
func feminine(first string) bool {
	switch first {
	case "Мария", "Анна", "Екатерина", "Ольга", "Наталья", "Татьяна", "Елена", "Дарья", "Юлия", "Ксения":
		return true
	}
	return false
}
