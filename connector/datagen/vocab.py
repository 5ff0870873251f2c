"""The generator's fixed vocabulary: names, companies, titles, countries, content.

A small hand-written vocabulary (rather than Faker) keeps the output identical
across library versions and generation fast at a million people; every choice
among these words is made by a seeded ``random.Random``.
"""

from __future__ import annotations

from typing import Final, NamedTuple

VENDOR_DOMAIN: Final = "lumora.io"
"""The demo company's own website: landing pages, forms and internal referrers.
Add it to ``own_domains`` in channels.yaml so internal navigation is not Referral."""

VENDOR_SITE: Final = f"https://www.{VENDOR_DOMAIN}"

FIRST_NAMES: Final = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty",
    "Anthony", "Sandra", "Mark", "Margaret", "Donald", "Ashley", "Steven", "Kimberly", "Andrew",
    "Emily", "Paul", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda",
    "Brian", "Melissa", "George", "Deborah", "Timothy", "Stephanie", "Ronald", "Rebecca",
    "Jason", "Sharon", "Edward", "Laura", "Jeffrey", "Cynthia", "Ryan", "Dorothy", "Jacob",
    "Amy", "Gary", "Kathleen", "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Emma",
    "Stephen", "Brenda", "Larry", "Pamela", "Justin", "Nicole", "Scott", "Anna", "Brandon",
    "Samantha", "Benjamin", "Katherine", "Samuel", "Christine", "Gregory", "Debra", "Alexander",
    "Rachel", "Patrick", "Carolyn", "Frank", "Janet", "Raymond", "Maria", "Jack", "Olivia",
    "Dennis", "Heather", "Jerry", "Helen", "Tyler", "Catherine", "Aaron", "Diane", "Jose",
    "Julie", "Adam", "Victoria", "Nathan", "Joyce", "Henry", "Lauren", "Zachary", "Kelly",
    "Douglas", "Christina", "Peter", "Ruth", "Kyle", "Joan", "Noah", "Virginia", "Ethan",
    "Judith", "Jeremy", "Evelyn", "Christian", "Hannah", "Walter", "Andrea", "Keith", "Megan",
    "Austin", "Cheryl", "Roger", "Jacqueline", "Terry", "Madison", "Sean", "Teresa", "Gerald",
    "Abigail", "Carl", "Sophia", "Dylan", "Martha", "Harold", "Sara", "Jordan", "Gloria",
    "Jesse", "Janice", "Bryan", "Kathryn", "Lawrence", "Ann", "Arthur", "Isabella", "Gabriel",
    "Judy", "Bruce", "Charlotte", "Logan", "Julia", "Billy", "Grace", "Joe", "Amber", "Alan",
    "Alice", "Juan", "Jean", "Elijah", "Denise", "Willie", "Frances", "Albert", "Danielle",
    "Wayne", "Marilyn", "Randy", "Natalie", "Mason", "Beverly", "Vincent", "Diana", "Liam",
    "Brittany", "Roy", "Theresa", "Bobby", "Kayla", "Caleb", "Alexis", "Bradley", "Doris",
    "Russell", "Lori", "Lucas", "Tiffany", "José", "Zoë", "Renée", "François", "Søren", "Jürgen",
    "Priya", "Rahul", "Ananya", "Arjun", "Wei", "Mei", "Hiroshi", "Yuki", "Kenji", "Sakura",
    "Olu", "Chiamaka", "Kwame", "Amara", "Mateo", "Lucía", "Thiago", "Camila", "Lars", "Ingrid",
    "Sven", "Astrid", "Pierre", "Camille", "Hans", "Greta", "Giulia", "Marco", "Fatima", "Omar",
)

LAST_NAMES: Final = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster",
    "Jimenez", "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler",
    "Henderson", "Barnes", "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan",
    "Patterson", "Alexander", "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno",
    "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar",
    "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez",
    "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman",
    "Webb", "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter",
    "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt", "Hicks",
    "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar",
    "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson",
    "Nichols", "Stephens", "Soto", "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn",
    "O'Brien", "O'Neill", "McAllister", "Van der Berg", "De Luca", "Müller", "Schäfer", "Dubois",
    "Lefèvre", "Núñez", "Peña", "Sørensen", "Åkesson", "Sharma", "Gupta", "Iyer", "Reddy",
    "Wang", "Li", "Zhang", "Liu", "Tanaka", "Suzuki", "Watanabe", "Okafor", "Adeyemi", "Mensah",
    "Costa", "Oliveira", "Santos", "Rossi", "Bianchi", "Nielsen", "Johansson", "Lindqvist",
    "Novak", "Kowalski", "Horvat", "Haddad", "Khan", "Ahmed", "Cohen", "Levi", "Murakami",
)

# Brandable company name roots. Root + descriptor concatenations must stay unique
# (the company domain is built from them); a test checks it.
COMPANY_ROOTS: Final = (
    "Acorn", "Alder", "Alpine", "Amber", "Anchor", "Apex", "Arbor", "Arcadia", "Argent", "Arrow",
    "Aspen", "Atlas", "Aurora", "Axis", "Azure", "Basalt", "Beacon", "Beech", "Birch", "Bison",
    "Blackstone", "Bluebird", "Bluefin", "Bolt", "Boulder", "Bramble", "Brightwater", "Brook",
    "Cairn", "Canyon", "Capstone", "Cardinal", "Cascade", "Cedar", "Celeste", "Chestnut",
    "Cinder", "Citadel", "Clearwater", "Cliffside", "Cloudberry", "Cobalt", "Comet", "Compass",
    "Condor", "Copper", "Coral", "Cormorant", "Cove", "Crane", "Crescent", "Crestview",
    "Crimson", "Crown", "Crystal", "Cypress", "Dawnlight", "Deltaview", "Dune", "Eagle", "Echo",
    "Eclipse", "Elm", "Ember", "Emerald", "Everest", "Evergreen", "Falcon", "Fathom", "Fern",
    "Fjord", "Flint", "Forge", "Foxglove", "Frontier", "Galaxy", "Garnet", "Glacier", "Glen",
    "Granite", "Graphite", "Grove", "Gull", "Halcyon", "Harbor", "Harvest", "Hawk", "Hazel",
    "Heath", "Helix", "Heron", "Highland", "Horizon", "Hudson", "Indigo", "Iris", "Ironwood",
    "Ivory", "Jade", "Juniper", "Keystone", "Kestrel", "Kite", "Lagoon", "Lantern", "Larch",
    "Lark", "Laurel", "Ledger", "Linden", "Lodestar", "Lumen", "Lynx", "Magnolia", "Mango",
    "Maple", "Marble", "Mariner", "Meadow", "Meridian", "Mesa", "Midland", "Mint", "Mistral",
    "Monarch", "Moss", "Nautilus", "Nebula", "Nimbus", "Northgate", "Northwind", "Oak", "Oasis",
    "Obsidian", "Oceanic", "Olive", "Onyx", "Orbit", "Orchard", "Osprey", "Otter", "Pacifica",
    "Paladin", "Palisade", "Panther", "Paragon", "Peak", "Pebble", "Pelican", "Pepper", "Pine",
    "Pinnacle", "Pioneer", "Plume", "Polar", "Prairie", "Prism", "Quartz", "Quill", "Radiant",
    "Rainier", "Raven", "Redwood", "Reef", "Ridge", "Riverbend", "Robin", "Rowan", "Sable",
    "Saffron", "Sage", "Saltmarsh", "Sapphire", "Sequoia", "Shale", "Shore", "Sierra", "Silver",
    "Skyline", "Slate", "Solstice", "Sparrow", "Spruce", "Starling", "Sterling", "Stonebridge",
    "Summit", "Sunbeam", "Swift", "Sycamore", "Talon", "Teal", "Tempest", "Terra", "Thistle",
    "Thunder", "Tidal", "Timber", "Topaz", "Torrent", "Trailhead", "Tundra", "Twinpeak",
    "Umber", "Unity", "Valley", "Vantage", "Velvet", "Vertex", "Vista", "Walnut", "Wavecrest",
    "Willow", "Windward", "Wolf", "Wren", "Yarrow", "Zenith", "Zephyr", "Aldridge", "Ashford",
    "Bellwether", "Blakemore", "Brightline", "Calloway", "Carrington", "Dalton", "Easton",
    "Fairmont", "Garrison", "Hartwell", "Kingsley", "Langford", "Marlowe", "Norcross",
    "Pemberton", "Quinton", "Radcliffe", "Sheffield", "Thornton", "Whitmore", "Yardley",
    "Wexford", "Brantley", "Colby", "Dunmore",
)

ICP_INDUSTRIES: Final = frozenset({
    "Technology", "Finance", "Banking", "Insurance", "Healthcare", "Biotechnology",
    "Manufacturing", "Telecommunications",
})
"""Industries of the demo company's ideal customer profile (Salesforce picklist values)."""

# (descriptor word, Salesforce Industry picklist value)
DESCRIPTORS: Final = (
    ("Software", "Technology"), ("Systems", "Technology"), ("Analytics", "Technology"),
    ("Data", "Technology"), ("Labs", "Technology"), ("Cloud", "Technology"),
    ("Digital", "Technology"), ("Networks", "Technology"), ("Technologies", "Technology"),
    ("AI", "Technology"), ("Robotics", "Technology"), ("Security", "Technology"),
    ("Computing", "Technology"), ("Apps", "Technology"), ("Logic", "Technology"),
    ("Platforms", "Technology"), ("Devices", "Electronics"), ("Semiconductor", "Electronics"),
    ("Capital", "Finance"), ("Financial", "Finance"), ("Investments", "Finance"),
    ("Wealth", "Finance"), ("Payments", "Finance"), ("Lending", "Finance"),
    ("Bank", "Banking"), ("Bancorp", "Banking"), ("Savings", "Banking"),
    ("Insurance", "Insurance"), ("Assurance", "Insurance"), ("Mutual", "Insurance"),
    ("Health", "Healthcare"), ("Medical", "Healthcare"), ("Clinics", "Healthcare"),
    ("Care", "Healthcare"), ("Diagnostics", "Healthcare"), ("Bio", "Biotechnology"),
    ("Therapeutics", "Biotechnology"), ("Genomics", "Biotechnology"),
    ("Manufacturing", "Manufacturing"), ("Industries", "Manufacturing"),
    ("Components", "Manufacturing"), ("Fabrication", "Manufacturing"),
    ("Materials", "Manufacturing"), ("Machining", "Machinery"), ("Telecom", "Telecommunications"),
    ("Wireless", "Telecommunications"), ("Fiber", "Telecommunications"),
    ("Communications", "Communications"), ("Retail", "Retail"), ("Outfitters", "Retail"),
    ("Stores", "Retail"), ("Market", "Retail"), ("Apparel", "Apparel"), ("Academy", "Education"),
    ("Learning", "Education"), ("College", "Education"), ("Authority", "Government"),
    ("Agency", "Government"), ("Foundation", "Not For Profit"), ("Trust", "Not For Profit"),
    ("Hotels", "Hospitality"), ("Resorts", "Hospitality"), ("Foods", "Food & Beverage"),
    ("Brewing", "Food & Beverage"), ("Coffee", "Food & Beverage"), ("Logistics", "Transportation"),
    ("Freight", "Transportation"), ("Airlines", "Transportation"), ("Shipping", "Shipping"),
    ("Energy", "Energy"), ("Power", "Utilities"), ("Solar", "Energy"),
    ("Construction", "Construction"), ("Builders", "Construction"), ("Consulting", "Consulting"),
    ("Advisors", "Consulting"), ("Media", "Media"), ("Studios", "Entertainment"),
    ("Publishing", "Media"), ("Farms", "Agriculture"), ("Engineering", "Engineering"),
    ("Chemicals", "Chemicals"), ("Environmental", "Environmental"),
)

# (top-level domain, legal form appended to the Salesforce Account name, fixed country)
DOMAIN_VARIANTS: Final = (
    ("com", " Inc.", None), ("com", "", None), ("com", " Corp.", None), ("com", ", Inc.", None),
    ("io", "", None), ("net", " LLC", None), ("co.uk", " Ltd", "United Kingdom"),
    ("de", " GmbH", "Germany"),
)


class Country(NamedTuple):
    name: str
    weight: int
    icp: bool
    utc_offsets_minutes: tuple[int, ...]
    # Other spellings seen in MAP exports for the same country.
    variants: tuple[str, ...]


COUNTRIES: Final = (
    Country("United States", 44, True, (-300, -360, -420, -480),
            ("US", "USA", "United States of America")),
    Country("United Kingdom", 10, True, (0, 60), ("UK", "GB", "Great Britain")),
    Country("Canada", 6, True, (-300, -480), ("CA",)),
    Country("Germany", 6, True, (60, 120), ("DE", "Deutschland")),
    Country("France", 4, True, (60, 120), ("FR",)),
    Country("Netherlands", 3, True, (60,), ("NL", "The Netherlands")),
    Country("Australia", 4, True, (600, 660), ("AU",)),
    Country("Sweden", 2, True, (60,), ("SE",)),
    Country("India", 6, False, (330,), ("IN",)),
    Country("Brazil", 3, False, (-180,), ("BR", "Brasil")),
    Country("Japan", 2, False, (540,), ("JP",)),
    Country("Singapore", 2, False, (480,), ("SG",)),
    Country("Spain", 2, False, (60, 120), ("ES", "España")),
    Country("Mexico", 2, False, (-360,), ("MX", "México")),
    Country("South Africa", 1, False, (120,), ("ZA",)),
    Country("Nigeria", 1, False, (60,), ("NG",)),
    Country("Nepal", 1, False, (345,), ("NP",)),
)
COUNTRY_BY_NAME: Final = {c.name: c for c in COUNTRIES}

FREE_MAIL_DOMAINS: Final = (
    "gmail.com", "gmail.com", "gmail.com", "yahoo.com", "hotmail.com", "outlook.com",
    "icloud.com", "aol.com", "proton.me", "gmx.de", "hotmail.co.uk",
)


class Title(NamedTuple):
    title: str
    seniority: str  # exec, vp, director, manager, ic, out (outside the buyer profile)


TITLES: Final = (
    Title("CEO", "exec"), Title("Chief Marketing Officer", "exec"),
    Title("Chief Revenue Officer", "exec"), Title("CFO", "exec"), Title("CTO", "exec"),
    Title("Founder", "exec"), Title("VP Marketing", "vp"), Title("VP Sales", "vp"),
    Title("VP Revenue Operations", "vp"), Title("VP Demand Generation", "vp"),
    Title("VP Engineering", "vp"), Title("Director of Marketing", "director"),
    Title("Director of Marketing Operations", "director"),
    Title("Director of Sales Operations", "director"),
    Title("Director of Demand Generation", "director"), Title("Head of Growth", "director"),
    Title("Director of IT", "director"), Title("Marketing Operations Manager", "manager"),
    Title("Demand Generation Manager", "manager"), Title("Sales Operations Manager", "manager"),
    Title("Marketing Manager", "manager"), Title("Revenue Operations Manager", "manager"),
    Title("CRM Manager", "manager"), Title("Product Marketing Manager", "manager"),
    Title("Marketing Specialist", "ic"), Title("Salesforce Administrator", "ic"),
    Title("Marketing Coordinator", "ic"), Title("Business Analyst", "ic"),
    Title("Data Analyst", "ic"), Title("Sales Development Representative", "ic"),
    Title("Account Executive", "ic"), Title("Software Engineer", "ic"),
    Title("Student", "out"), Title("Intern", "out"), Title("Freelance Consultant", "out"),
    Title("Recruiter", "out"), Title("Professor", "out"), Title("Retired", "out"),
)
SENIORITY_WEIGHTS: Final = {"exec": 6, "vp": 10, "director": 18, "manager": 28, "ic": 30,
                            "out": 8}
BUYER_SENIORITIES: Final = ("exec", "vp", "director", "manager")

OPPORTUNITY_ROLES: Final = ("Decision Maker", "Economic Buyer", "Technical Buyer", "Evaluator",
                            "Influencer", "Business User")
OPPORTUNITY_PRODUCTS: Final = ("Platform", "Growth Edition", "Enterprise Edition",
                               "Attribution Add-on", "Data Cloud Connector")

LEAD_SOURCES: Final = ("Web", "Webinar", "Trade Show", "Advertisement", "Partner Referral",
                       "Employee Referral", "Purchased List", "Phone Inquiry", "Other")

WEBINAR_TOPICS: Final = (
    "Attribution 101", "Lead Scoring That Sales Trusts", "Building a Dual Funnel",
    "First Touch vs Original Source", "ABM Without the Hype", "Campaign Influence Demystified",
    "RevOps Metrics for the Board", "Clean CRM Data at Scale", "Recycling Leads the Right Way",
    "From MQL to Pipeline", "Intent Data in Practice", "Marketing Ops Office Hours",
    "Multi-Touch Attribution Deep Dive", "Forecasting Pipeline from Marketing",
    "Salesforce Campaigns Done Right", "Scoring Models from Won Deals",
    "Webinar Programs that Convert", "Measuring Events ROI", "The CFO's Guide to Marketing",
    "Product-Led Growth Signals",
)
EVENT_NAMES: Final = (
    "SaaStr Annual", "Dreamforce", "MarTech Conference", "B2B Marketing Exchange",
    "RevOps Summit", "Adobe Summit", "INBOUND", "Web Summit", "Gartner CMO Symposium",
    "Forrester B2B Summit", "Field Roadshow London", "Field Roadshow New York",
    "Field Roadshow Berlin", "Field Roadshow Sydney", "Customer Summit",
)
SYNDICATION_VENDORS: Final = ("TechTarget", "Integrate", "NetLine", "Madison Logic",
                              "DemandScience", "Foundry")
PARTNERS: Final = ("Brightpath Consulting", "Northstar Solutions", "Keel Digital",
                   "Orbital Agency", "Clearview Partners", "Tidewater Group")
DIRECT_MAIL_THEMES: Final = ("Executive Gift Box", "Coffee for a Meeting", "Book Send",
                             "Holiday Card", "Swag Pack")
SALES_CAMPAIGN_NAMES: Final = ("SDR Blitz", "Customer Advisory Board", "Exec Dinner",
                               "Sales Kickoff Prospect List", "AE Territory Plan",
                               "Partner Referral Push")
CONTENT_TITLES: Final = (
    "The State of B2B Attribution", "Marketing Ops Benchmark Report", "Lead Scoring Playbook",
    "ABM Field Guide", "Campaign Influence Explained", "Funnel Metrics Cheat Sheet",
    "Data Hygiene Checklist", "Pipeline Forecasting Guide", "Webinar Benchmarks",
    "Buyer Journey Research",
)
PAID_SEARCH_ADGROUPS: Final = ("Brand", "Competitor", "Generic", "Retargeting",
                               "Attribution Keywords", "Lead Scoring Keywords",
                               "Salesforce Integration")
PAID_SEARCH_TERMS: Final = ("marketing attribution software", "b2b attribution",
                            "lead scoring tool", "salesforce marketo sync",
                            "multi touch attribution", "lumora", "revenue attribution",
                            "abm platform")
PAID_SOCIAL_ADSETS: Final = (("LinkedIn - ABM Tier 1", "linkedin"),
                             ("LinkedIn - Lead Gen Forms", "linkedin"),
                             ("LinkedIn - Thought Leadership", "linkedin"),
                             ("Facebook - Retargeting", "facebook"),
                             ("Twitter - Promoted", "twitter"))
DISPLAY_LINES: Final = (("Programmatic - Intent", "stackadapt"),
                        ("Retargeting - Site Visitors", "doubleclick"),
                        ("ABM Display - Target Accounts", "demandbase"))
NURTURE_TRACKS: Final = ("Nurture - New Leads", "Nurture - Product Education",
                         "Nurture - Recycled Leads", "Nurture - Customers")
OUTBOUND_PLAYS: Final = ("SDR Outbound", "AE Prospecting - Tier 1", "SDR Event Follow-up")

SEARCH_REFERRERS: Final = ("https://www.google.com/", "https://www.google.com/",
                           "https://www.google.com/", "https://www.google.co.uk/",
                           "https://www.bing.com/", "https://duckduckgo.com/",
                           "https://www.ecosia.org/")
SOCIAL_REFERRERS: Final = ("https://www.linkedin.com/", "https://www.linkedin.com/feed/",
                           "https://t.co/", "https://www.reddit.com/r/marketing/",
                           "https://www.youtube.com/")
OTHER_SITE_REFERRERS: Final = ("https://www.g2.com/products/lumora/reviews",
                               "https://www.capterra.com/p/lumora/",
                               "https://news.ycombinator.com/",
                               "https://martechweekly.example.org/issue-112")

# Site pages for program-less web visits: (path, weight for ordinary people, weight for buyers)
SITE_PAGES: Final = (
    ("/", 20, 10), ("/product", 14, 14), ("/pricing", 6, 30), ("/customers", 6, 8),
    ("/integrations/salesforce", 6, 10), ("/docs/getting-started", 4, 6),
    ("/blog/first-touch-vs-original-source", 6, 2), ("/blog/lead-scoring-sales-trusts", 6, 2),
    ("/blog/attribution-models-compared", 6, 2), ("/blog/recycling-leads", 4, 1),
    ("/security", 2, 6), ("/careers", 3, 0), ("/about", 3, 1),
)
CAREERS_PAGES: Final = ("/careers", "/careers/engineering", "/careers/marketing")

# The MAP's own label for a person's source, by the channel of their first touch.
MAP_SOURCE_LABELS: Final = {
    "Paid Search": ("Paid Search", "Google Ads", "PPC"),
    "Paid Social": ("Paid Social", "LinkedIn Ads", "Social - Paid"),
    "Display": ("Display", "Retargeting"),
    "Organic Search": ("Organic Search", "SEO", "Google Organic"),
    "Organic Social": ("Social", "Organic Social"),
    "Email": ("Email", "Newsletter"),
    "Webinar": ("Webinar",),
    "Event": ("Trade Show", "Event"),
    "Content Syndication": ("Content Syndication", "TechTarget"),
    "Website": ("Website", "Web", "Direct"),
    "Referral": ("Referral", "Customer Referral"),
    "Partner": ("Partner", "Partner Referral"),
    "Direct Mail": ("Direct Mail",),
    "Outbound Sales": ("Sales", "Outbound"),
}
LIST_IMPORT_SOURCES: Final = ("List Import", "Purchased List", "Trade Show List")
