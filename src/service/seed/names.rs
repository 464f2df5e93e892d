//! Name, street and place lists for synthetic Patients: common US names with the mix a
//! Minnesota registry sees (Scandinavian and German, Hispanic, Hmong, Somali, Vietnamese, ...).

/// Given names of girls and women.
#[rustfmt::skip]
pub(super) const FEMALE_GIVEN: &[&str] = &[
    "Olivia", "Emma", "Charlotte", "Amelia", "Sophia", "Mia", "Isabella", "Ava", "Evelyn", "Harper", "Luna", "Camila",
    "Gianna", "Elizabeth", "Eleanor", "Ella", "Abigail", "Sofia", "Avery", "Scarlett", "Emily", "Aria", "Penelope",
    "Chloe", "Layla", "Mila", "Nora", "Hazel", "Madison", "Ellie", "Lily", "Nova", "Isla", "Grace", "Violet", "Aurora",
    "Riley", "Zoey", "Willow", "Emilia", "Stella", "Zoe", "Victoria", "Hannah", "Addison", "Leah", "Lucy", "Eliana",
    "Ivy", "Everly", "Lillian", "Paisley", "Elena", "Naomi", "Maya", "Natalie", "Kinsley", "Delilah", "Claire",
    "Audrey", "Aaliyah", "Ruby", "Brooklyn", "Alice", "Aubrey", "Autumn", "Leilani", "Savannah", "Valentina", "Kennedy",
    "Madelyn", "Josephine", "Bella", "Skylar", "Genesis", "Sophie", "Hailey", "Sadie", "Natalia", "Quinn", "Caroline",
    "Allison", "Gabriella", "Anna", "Serenity", "Nevaeh", "Cora", "Ariana", "Emery", "Lydia", "Jade", "Sarah", "Eva",
    "Adeline", "Madeline", "Piper", "Rylee", "Athena", "Peyton", "Everleigh", "Vivian", "Clara", "Raelynn", "Liliana",
    "Samantha", "Maria", "Iris", "Ayla", "Eloise", "Lyla", "Eliza", "Hadley", "Melody", "Julia", "Parker", "Rose",
    "Isabelle", "Brielle", "Adalynn", "Arya", "Eden", "Remi", "Mackenzie", "Maeve", "Margaret", "Reagan", "Alaina",
    "Ashley", "Jessica", "Jennifer", "Amanda", "Megan", "Rachel", "Lauren", "Kayla", "Brianna", "Taylor", "Morgan",
    "Alexis", "Kaitlyn", "Destiny", "María", "Sofía", "Lucía", "Inés", "Zoë", "Chloé", "Renée", "Ximena", "Guadalupe",
    "Daniela", "Mariana", "Fernanda", "Mai", "Pa", "Nou", "Bao", "Yer", "Kia", "Amina", "Fatima", "Hodan", "Ayaan",
    "Sahra", "Hibo", "Fartun", "Ilhan", "Asha", "Linh", "Thuy", "Ingrid", "Astrid", "Solveig", "Kari", "Signe",
    "Anne-Marie", "Mary-Kate",
];

/// Given names of boys and men.
#[rustfmt::skip]
pub(super) const MALE_GIVEN: &[&str] = &[
    "Liam", "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry", "Theodore", "Jack", "Levi",
    "Alexander", "Jackson", "Mateo", "Daniel", "Michael", "Mason", "Sebastian", "Ethan", "Logan", "Owen", "Samuel",
    "Jacob", "Asher", "Aiden", "John", "Joseph", "Wyatt", "David", "Leo", "Luke", "Julian", "Hudson", "Grayson",
    "Matthew", "Ezra", "Gabriel", "Carter", "Isaac", "Jayden", "Luca", "Anthony", "Dylan", "Lincoln", "Thomas",
    "Maverick", "Elias", "Josiah", "Charles", "Caleb", "Christopher", "Ezekiel", "Miles", "Jaxon", "Isaiah", "Andrew",
    "Joshua", "Nathan", "Nolan", "Adrian", "Cameron", "Santiago", "Eli", "Aaron", "Ryan", "Angel", "Cooper", "Waylon",
    "Easton", "Kai", "Christian", "Landon", "Colton", "Roman", "Axel", "Brooks", "Jonathan", "Robert", "Jameson", "Ian",
    "Everett", "Greyson", "Wesley", "Jeremiah", "Hunter", "Leonardo", "Jordan", "Jose", "Bennett", "Silas", "Nicholas",
    "Parker", "Beau", "Weston", "Austin", "Connor", "Carson", "Dominic", "Xavier", "Jaxson", "Jace", "Emmett", "Adam",
    "Declan", "Rowan", "Micah", "Kayden", "Gael", "River", "Ryder", "Kingston", "Damian", "Sawyer", "Luka", "Evan",
    "Vincent", "Legend", "Myles", "Harrison", "August", "Bryson", "Amir", "Giovanni", "Chase", "Diego", "Milo", "Tyler",
    "Brandon", "Justin", "Kevin", "Zachary", "Kyle", "Eric", "Steven", "Brian", "José", "Andrés", "Ángel", "Tomás",
    "Matías", "Joaquín", "Héctor", "Darío", "Jesús", "Raúl", "Iván", "Tou", "Kou", "Chue", "Fue", "Yeng", "Xee",
    "Mohamed", "Abdirahman", "Hamza", "Yusuf", "Abdi", "Ahmed", "Hassan", "Minh", "Huy", "Bao", "Anders", "Erik",
    "Lars", "Nils", "Gunnar", "Jean-Luc", "Jean-Paul",
];

/// Family names, the first ones the most common.
#[rustfmt::skip]
pub(super) const FAMILY: &[&str] = &[
    "Johnson", "Anderson", "Nelson", "Olson", "Peterson", "Larson", "Smith", "Miller", "Swanson", "Hanson", "Carlson",
    "Johnston", "Erickson", "Schmidt", "Lee", "Thompson", "Jensen", "Martin", "Brown", "Williams", "Jones",
    "Christensen", "Schultz", "Meyer", "Wagner", "Hoffman", "Becker", "Koch", "Weber", "Fischer", "Lund", "Berg",
    "Lindquist", "Gustafson", "Halvorson", "Sorensen", "Nygaard", "Bakken", "Dahl", "Haugen", "Davis", "Garcia",
    "Rodriguez", "Wilson", "Martinez", "Taylor", "Moore", "Jackson", "White", "Harris", "Clark", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Hill", "Green", "Adams", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Phillips", "Evans", "Turner", "Parker", "Collins",
    "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Reed", "Bailey", "Bell", "Kelly",
    "Howard", "Ward", "Cox", "Richardson", "Wood", "Watson", "Brooks", "Bennett", "Gray", "James", "Hughes", "Price",
    "Sanders", "Myers", "Long", "Ross", "Foster", "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Fisher",
    "Henderson", "Coleman", "Simmons", "Patterson", "Jordan", "Reynolds", "Hamilton", "Graham", "Kim", "Wallace",
    "O'Brien", "O'Connor", "McDonald", "MacLeod", "García", "Hernández", "Martínez", "López", "González", "Rodríguez",
    "Pérez", "Sánchez", "Ramírez", "Muñoz", "Peña", "Jiménez", "Gómez", "Díaz", "Cruz", "Flores", "Ortiz", "Morales",
    "Reyes", "Gutiérrez", "Chávez", "Ramos", "Castillo", "Vásquez", "Xiong", "Vang", "Yang", "Thao", "Her", "Moua",
    "Lor", "Vue", "Lo", "Khang", "Mohamed", "Ahmed", "Ali", "Hassan", "Abdi", "Hussein", "Warsame", "Farah", "Osman",
    "Jama", "Nguyen", "Tran", "Pham", "Le", "Vu", "Dang", "Bui", "Do", "Patel", "Singh", "Shah", "Chen", "Wang", "Liu",
    "Zhang", "Kowalski", "Nowak", "Novak", "Dvořák", "Müller", "Schäfer", "Whitebird", "Fairbanks", "Goodsky",
    "Beaulieu", "Dubois", "Lefèvre",
];

/// Street names.
#[rustfmt::skip]
pub(super) const STREETS: &[&str] = &[
    "Main", "Oak", "Maple", "Elm", "Pine", "Cedar", "Birch", "Lake", "Hill", "Park", "Washington", "Lincoln",
    "Jefferson", "Franklin", "Summit", "Grand", "University", "Como", "Lyndale", "Hennepin", "Nicollet", "Portland",
    "Chicago", "Cedar Lake", "Minnehaha", "Lexington", "Snelling", "Cleveland", "Fairview", "Randolph", "Selby",
    "Marshall", "Dale", "Rice", "Victoria", "Highland", "Ridgewood", "Sunset", "Prairie", "Wildflower", "Tamarack",
    "Aspen", "Spruce", "Willow", "Juniper", "Walnut", "Cherry", "Meadow", "River", "Valley", "Lakeview", "Bluff",
    "Mill", "Church", "Center", "Broadway", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth",
];

/// Street suffixes.
pub(super) const STREET_SUFFIXES: &[&str] =
    &["St", "Ave", "Ave S", "Ave N", "Rd", "Dr", "Ln", "Ct", "Blvd", "Pkwy", "Way", "Cir", "Trl", "Pl"];

/// A Minnesota city: its share of the population seeded, its ZIP codes and its area code.
#[derive(Debug)]
pub(super) struct City {
    /// City name.
    pub(super) name: &'static str,
    /// Relative weight (roughly the population, in thousands).
    pub(super) weight: u32,
    /// ZIP codes of the city.
    pub(super) zips: &'static [&'static str],
    /// Telephone area code.
    pub(super) area_code: &'static str,
}

/// Minnesota cities (ZIP codes 55001-56763).
pub(super) const CITIES: &[City] = &[
    City {
        name: "Minneapolis",
        weight: 425,
        zips: &[
            "55401", "55403", "55404", "55405", "55406", "55407", "55408", "55409", "55410", "55411", "55412", "55413",
            "55414", "55415", "55417", "55418", "55419", "55454", "55455",
        ],
        area_code: "612",
    },
    City {
        name: "Saint Paul",
        weight: 310,
        zips: &[
            "55101", "55102", "55103", "55104", "55105", "55106", "55107", "55108", "55116", "55117", "55119", "55130",
        ],
        area_code: "651",
    },
    City { name: "Rochester", weight: 121, zips: &["55901", "55902", "55904", "55906"], area_code: "507" },
    City {
        name: "Duluth",
        weight: 87,
        zips: &["55802", "55803", "55804", "55805", "55806", "55807", "55808", "55811", "55812"],
        area_code: "218",
    },
    City { name: "Bloomington", weight: 89, zips: &["55420", "55425", "55431", "55437", "55438"], area_code: "952" },
    City { name: "Brooklyn Park", weight: 86, zips: &["55443", "55444", "55445"], area_code: "763" },
    City { name: "Woodbury", weight: 75, zips: &["55125", "55129"], area_code: "651" },
    City { name: "Plymouth", weight: 81, zips: &["55441", "55446", "55447"], area_code: "763" },
    City { name: "Lakeville", weight: 70, zips: &["55044"], area_code: "952" },
    City { name: "Blaine", weight: 70, zips: &["55434", "55449"], area_code: "763" },
    City { name: "Maple Grove", weight: 70, zips: &["55311", "55369"], area_code: "763" },
    City { name: "Saint Cloud", weight: 69, zips: &["56301", "56303", "56304"], area_code: "320" },
    City { name: "Eagan", weight: 68, zips: &["55121", "55122", "55123"], area_code: "651" },
    City { name: "Burnsville", weight: 64, zips: &["55306", "55337"], area_code: "952" },
    City { name: "Eden Prairie", weight: 64, zips: &["55344", "55346", "55347"], area_code: "952" },
    City { name: "Coon Rapids", weight: 63, zips: &["55433", "55448"], area_code: "763" },
    City { name: "Apple Valley", weight: 56, zips: &["55124"], area_code: "952" },
    City { name: "Edina", weight: 53, zips: &["55424", "55435", "55436", "55439"], area_code: "952" },
    City { name: "Minnetonka", weight: 54, zips: &["55305", "55343", "55345"], area_code: "952" },
    City { name: "Saint Louis Park", weight: 50, zips: &["55416", "55426"], area_code: "952" },
    City { name: "Mankato", weight: 45, zips: &["56001"], area_code: "507" },
    City { name: "Moorhead", weight: 44, zips: &["56560"], area_code: "218" },
    City { name: "Shakopee", weight: 45, zips: &["55379"], area_code: "952" },
    City { name: "Maplewood", weight: 42, zips: &["55109"], area_code: "651" },
    City { name: "Cottage Grove", weight: 39, zips: &["55016"], area_code: "651" },
    City { name: "Richfield", weight: 37, zips: &["55423"], area_code: "612" },
    City { name: "Roseville", weight: 36, zips: &["55113"], area_code: "651" },
    City { name: "Inver Grove Heights", weight: 36, zips: &["55076", "55077"], area_code: "651" },
    City { name: "Andover", weight: 33, zips: &["55304"], area_code: "763" },
    City { name: "Brooklyn Center", weight: 33, zips: &["55429", "55430"], area_code: "763" },
    City { name: "Savage", weight: 33, zips: &["55378"], area_code: "952" },
    City { name: "Fridley", weight: 29, zips: &["55432"], area_code: "763" },
    City { name: "Oakdale", weight: 28, zips: &["55128"], area_code: "651" },
    City { name: "Chaska", weight: 28, zips: &["55318"], area_code: "952" },
    City { name: "Ramsey", weight: 28, zips: &["55303"], area_code: "763" },
    City { name: "Prior Lake", weight: 27, zips: &["55372"], area_code: "952" },
    City { name: "Shoreview", weight: 27, zips: &["55126"], area_code: "651" },
    City { name: "Winona", weight: 26, zips: &["55987"], area_code: "507" },
    City { name: "Chanhassen", weight: 26, zips: &["55317"], area_code: "952" },
    City { name: "Owatonna", weight: 26, zips: &["55060"], area_code: "507" },
    City { name: "Elk River", weight: 25, zips: &["55330"], area_code: "763" },
    City { name: "Faribault", weight: 24, zips: &["55021"], area_code: "507" },
    City { name: "Rosemount", weight: 26, zips: &["55068"], area_code: "651" },
    City { name: "Hastings", weight: 22, zips: &["55033"], area_code: "651" },
    City { name: "Northfield", weight: 20, zips: &["55057"], area_code: "507" },
    City { name: "Willmar", weight: 21, zips: &["56201"], area_code: "320" },
    City { name: "Red Wing", weight: 16, zips: &["55066"], area_code: "651" },
    City { name: "Bemidji", weight: 15, zips: &["56601"], area_code: "218" },
    City { name: "Hibbing", weight: 16, zips: &["55746"], area_code: "218" },
    City { name: "Brainerd", weight: 14, zips: &["56401"], area_code: "218" },
    City { name: "Austin", weight: 26, zips: &["55912"], area_code: "507" },
    City { name: "Albert Lea", weight: 18, zips: &["56007"], area_code: "507" },
    City { name: "Fergus Falls", weight: 14, zips: &["56537"], area_code: "218" },
    City { name: "Alexandria", weight: 14, zips: &["56308"], area_code: "320" },
    City { name: "Marshall", weight: 13, zips: &["56258"], area_code: "507" },
    City { name: "Worthington", weight: 13, zips: &["56187"], area_code: "507" },
    City { name: "New Ulm", weight: 13, zips: &["56073"], area_code: "507" },
    City { name: "Grand Rapids", weight: 11, zips: &["55744"], area_code: "218" },
    City { name: "Cannon Falls", weight: 4, zips: &["55009"], area_code: "507" },
    City { name: "Afton", weight: 3, zips: &["55001"], area_code: "651" },
    City { name: "International Falls", weight: 6, zips: &["56649"], area_code: "218" },
    City { name: "Thief River Falls", weight: 9, zips: &["56701"], area_code: "218" },
    City { name: "Warroad", weight: 2, zips: &["56763"], area_code: "218" },
];
