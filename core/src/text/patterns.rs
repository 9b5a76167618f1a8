//! The built-in detectors: pattern fragments (months, street types, unit designators,
//! states) and the table of specs, each a pattern with its category, capture group,
//! validator and confidence.

use std::borrow::Cow;

use super::validate::{
    Validator, has_digit, not_common_word, valid_card, valid_context_card, valid_context_phone,
    valid_cued_street, valid_grouped_phone, valid_iban, valid_intl_date, valid_intl_phone,
    valid_ipv4, valid_ipv6, valid_labelled_phone, valid_md, valid_mdy, valid_nanp,
    valid_slash_phone, valid_ssn_loose, valid_vin, valid_ymd,
};

/// One detector, built in or custom, without its pattern (compiled apart, into the set).
pub(super) struct Spec {
    /// Reported with each span (`ssn-dashed`, a custom detector's id).
    pub(super) id: Cow<'static, str>,
    /// The category of what it finds.
    pub(super) category: Cow<'static, str>,
    /// Capture group holding the PHI (0: the whole match).
    pub(super) group: usize,
    /// What the PHI must also be to count (a check digit, a calendar date).
    pub(super) validate: Option<Validator>,
    /// Confidence in 0..=1 (higher wins overlaps).
    pub(super) confidence: f32,
    /// Lower-case words one of which must stand within [`CONTEXT_WINDOW`] bytes before a match.
    ///
    /// [`CONTEXT_WINDOW`]: super::CONTEXT_WINDOW
    pub(super) context: Vec<String>,
}

/// English month names and their abbreviations.
/// Month names of Spanish, German, French, Portuguese and Italian (case-insensitive; full
/// names only, so `mar` the sea or `mai` the German word stays prose without a number).
const MONTH_INTL: &str = "(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|januar|jänner|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember|janvier|février|fevrier|mars|avril|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|dezembro|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre)";

const MONTH: &str = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)";
/// Street types after the name: USPS Publication 28's suffixes, the British ones, and the
/// Australian standard's (AS/NZS 4819) less ambiguous ones (`Circuit`, `Wynd`), not words such
/// as `End`, `Line` or `Block` that a note uses for other things.
const STREET_SUFFIX: &str = r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Crossroad|Crossing|Extension|Trail|Trl|Square|Sq|Loop|Row|Alley|Plaza|Heights|Path|Pike|Ridge|Point|Pt|Park|Station|Route|Rte|Mall|Walk|Hill|Hills|Landing|Manor|Meadows?|Mill|Pass|Port|Springs?|View|Village|Ville|Harbor|Glen|Grove|Haven|Estates?|Fork|Field|Falls|Expressway|Expy|Freeway|Fwy|Annex|Arcade|Bayou|Beach|Bend|Bluffs?|Brooks?|Bypass|Canyon|Causeway|Cliffs?|Commons?|Corners?|Courts|Coves?|Creek|Crescent|Cres|Crest|Crossroads|Dale|Esplanade|Ferry|Fields|Forges?|Forks|Fort|Gardens?|Gateway|Glens|Greens?|Groves?|Harbors|Hollow|Inlet|Islands?|Isle|Junctions?|Knolls?|Lakes?|Manors|Mews|Mills|Motorway|Mountains?|Orchard|Oval|Parks|Passage|Plains?|Points|Ports|Prairie|Rapids?|Ridges|River|Roads|Shoals?|Shores?|Squares|Streets|Summit|Trace|Turnpike|Valleys?|Viaduct|Views|Villages|Vista|Walks|Ways|Close|Rise|Parade|Quay|Wharf|Promenade|Branch|Bridge|Burgs?|Camp|Cape|Centers?|Circles|Club|Course|Curve|Dam|Divide|Drives|Extensions|Fall|Flats?|Fords?|Forest|Keys?|Land|Lights?|Loaf|Locks?|Lodge|Mission|Mount|Neck|Overpass|Parkways|Pines?|Radial|Ramp|Ranch|Rest|Rue|Run|Skyway|Spurs?|Stravenue|Stream|Throughway|Track|Trafficway|Tunnel|Underpass|Unions?|Via|Wall|Wells?|Access|Alleyway|Amble|Anchorage|Approach|Brae|Broadway|Centre|Chase|Circuit|Circus|Colonnade|Concourse|Copse|Courtyard|Crossway|Cutting|Dell|Driveway|Fairway|Firetrail|Footway|Foreshore|Front|Frontage|Gates?|Glade|Grange|Gully|Highroad|Interchange|Laneway|Lees|Link|Lookout|Meander|Mew|Nook|Outlook|Parklands|Pathway|Plateau|Quad|Quays|Ramble|Reach|Reserve|Retreat|Ride|Ridgeway|Riverway|Riviera|Roadside|Roadway|Rotary|Siding|Slope|Strand|Subway|Tarn|Thoroughfare|Tollway|Tor|Towers|Trunkway|Vale|Villas|Wade|Walkway|Wynd|Marg|Str)";
/// Street-type words that end a compound street name (Nordic, German, Dutch, Icelandic,
/// Baltic): `Mannerheimintie 5`, `Drottninggatan 12`, `Parijsstraat 8`.
const STREET_COMPOUND: &str = r"(?:katu|tie|kuja|polku|gatan|gata|vägen|väg|veien|vegen|vei|vej|gade|stræde|straße|strasse|str\.|weg|laan|straat|gracht|gasse|platz|plein|braut|vegur|stræti|iela|gatvė|tänav|allee|damm|ufer|pfad|chaussee|baan|steeg|dreef|singel|kade|dijk|stigen|torget|gränd|backen|bulevardi|kaari|väylä|aukio|puisto|ranta|bakken|stien|ringen|åsen|haugen|løkka|svingen|plassen|kroken|bråten|jordet|skogen|marka|gropa|lunden|alléen|vænget|plads)";
/// Street-type words that open a street name (Romance languages, French, Slavic): `Via Roma
/// 131`, `Rua Augusta 25`, `Calle Mayor 3`, `ul. Długa 4`.
const STREET_PREFIX: &str = r"(?:Via|Viale|Vicolo|Corso|Piazza|Piazzale|Largo|Rua|Rúa|Avenida|Avda\.|Av\.?|Alameda|Estrada|Rodovia|Travessa|Praça|Calle|C/|Carrera|Camino|Paseo|Plaza|Ronda|Rambla|Rue|Avenue|Boulevard|Bd\.?|Chemin|Allée|Impasse|Quai|Ulica|ul\.|Strada|Calea|Aleea|Bulevardul|Soseaua|Șoseaua|Intrarea|Drumul|Jl\.|Jalan|Gg\.|Gang)";
/// The street types of [`STREET_PREFIX`] that are no English word nor a common name part,
/// which say street without a house number.
const STREET_PREFIX_STRONG: &str = r"Viale|Vicolo|Piazza|Piazzale|Rua|Rúa|Avenida|Avda\.|Travessa|Praça|Alameda|Estrada|Rodovia|Calle|C/|Carrera|Rue|Chemin|Allée|Ulica|ul\.|Strada|Calea|Aleea|Bulevardul|Soseaua|Șoseaua|Intrarea|Drumul|Jl\.|Jalan|Gg\.";
/// Lower-case words inside a Romance street name (`Rua Vinte e Cinco de Setembro`).
const NAME_CONNECTOR: &str =
    "(?:d[aeiou]|de[il]?|della|delle|degli|dei|dos|das|du|des|la|le|les|y|e)";
/// Secondary unit designators (USPS Publication 28 and their common spellings), shared by the
/// lone-unit detector and the address blocks.
pub(super) const UNIT_DESIGNATORS: &str = "apt|apartment|suite|ste|unit|flat|studio";
/// The USPS codes of the states, DC and Puerto Rico, before a ZIP code (`KS 67202`).
pub(super) const US_STATES: &str = r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|PR|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY)";

/// The built-in detectors. Their word boundaries are ASCII (`(?-u:\b)`): with a Unicode `\b`
/// anywhere in the set, the lazy DFA gives up at the first non-ASCII byte and the whole set
/// runs on a slower engine. Every boundary here has an ASCII digit, letter or punctuation
/// mark on the pattern's side, where the two agree; a pattern that starts at a letter of any
/// script says what may stand before it instead (`name-kin`).
pub(super) fn specs() -> Vec<(Spec, String)> {
    let s =
        |id: &'static str, category: &'static str, pattern: String, group, validate, confidence| {
            (
                Spec {
                    id: Cow::Borrowed(id),
                    category: Cow::Borrowed(category),
                    group,
                    validate,
                    confidence,
                    context: Vec::new(),
                },
                pattern,
            )
        };
    vec![
        s("email", "email", r"(?i)(?-u:\b)[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}(?-u:\b)".into(), 0, None, 0.95),
        s("url", "url", r#"(?i)(?-u:\b)(?:https?://|ftp://|www\.)[^\s<>"'()\[\]]+[^\s<>"'()\[\].,;:!?]"#.into(), 0, None, 0.9),
        s(
            "domain",
            "url",
            r#"(?i)(?-u:\b)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.(?:com|org|net|edu|gov|mil|info|biz|io|co|us|uk|de|fr|nl|it|es|ca|au|ru|ch|se|no|dk|fi|jp|cn|in|br|mx|pl|be|at|cz|il|nz|ie|pt|gr|hu|ro|za|kr|tw|sg|hk|eu|me|tv|cc|ly|ai|app|dev|health|hospital)(?-u:\b)(?:/[^\s<>"']*)?"#.into(),
            0,
            None,
            0.6,
        ),
        s("ipv4", "ip_address", r"(?-u:\b)(?:\d{1,3}\.){3}\d{1,3}(?-u:\b)".into(), 0, Some(valid_ipv4), 0.9),
        s("ipv6", "ip_address", r"(?i)(?:(?-u:\b)[0-9a-f]{1,4}|)(?::[0-9a-f]{0,4}){2,7}(?:%\w+)?".into(), 0, Some(valid_ipv6), 0.9),
        s("ssn-dashed", "ssn", r"(?-u:\b)\d{3}-\d{2}-\d{4}(?-u:\b)|(?-u:\b)\d{3} \d{2} \d{4}(?-u:\b)".into(), 0, Some(valid_ssn_loose), 0.85),
        s(
            "ssn-context",
            "ssn",
            r"(?i)(?-u:\b)(?:ssn|social security(?: number| no\.?| #)?|ss#)\s*(?:#|:|is|number)?\s*:?\s*(\d{3}[- ]?\d{2}[- ]?\d{4})(?-u:\b)".into(),
            1,
            None,
            0.95,
        ),
        s("credit-card", "account", r"(?-u:\b)(?:\d[ -]?){11,18}\d(?-u:\b)".into(), 0, Some(valid_card), 0.9),
        // A card number that words announce: any issuer prefix, 12 to 19 digits, Luhn.
        s(
            "credit-card-context",
            "account",
            r"(?i)(?-u:\b)(?:credit|debit|payment|bank)\s+card(?:\s+(?:number|no\.?|#))?\s*:?\s*((?:\d[ -]?){11,18}\d)(?-u:\b)".into(),
            1,
            Some(valid_context_card),
            0.9,
        ),
        s(
            "iban",
            "account",
            r"(?-u:\b)[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,4})?(?-u:\b)".into(),
            0,
            Some(valid_iban),
            0.9,
        ),
        s(
            "phone-nanp",
            "phone",
            r"(?:\+?1[-.\s]?)?(?:\(\d{3}\)\s?|(?-u:\b)\d{3}[-.\s]?)\d{3}[-.\s]?\d{4}(?:\s*(?:x|ext\.?|extension)\s*\d{1,5}(?-u:\b)|(?-u:\b))".into(),
            0,
            Some(valid_nanp),
            0.85,
        ),
        s(
            "phone-intl",
            "phone",
            r"(?:(?:\(\+\d{1,3}\)|\+\d{1,3})[-.\s]?(?:\(\d{1,4}\)[-.\s]?)?\d{1,4}(?:[-.\s]?\d{2,4}){2,4}|(?-u:\b)00[1-9]\d{0,2}[-.\s]\d{1,4}(?:[-.\s]\d{2,6}){1,4}|(?-u:\b)0\d{2,4}[-.\s]\d{3,4}[-.\s]?\d{3,4}|(?:(?-u:\b)[18][ -]?)?\(\d{2,5}\)[-.\s]?\d{2,4}(?:[-.\s]?\d{2,4}){1,2})(?:[ \t]*(?:x|ext\.?)[ \t]*\d{1,5})?(?-u:\b)".into(),
            0,
            Some(valid_intl_phone),
            0.7,
        ),
        s(
            "phone-grouped",
            "phone",
            r"(?:\+\d{1,3}[ .-]?|(?-u:\b)1[.-])?(?:\(\d{1,4}\)[ .-]?)?(?-u:\b)\d{2,4}(?:[ .-]\d{2,4}){2,4}(?:[ \t]*(?:x|ext\.?)[ \t]*\d{1,5})?(?-u:\b)".into(),
            0,
            Some(valid_grouped_phone),
            0.6,
        ),
        // An area code before a slash, as Austria, Germany and Hungary write it
        // (`01/32286610`, `06-25/834 5871`, `(24)/919-7739`).
        s(
            "phone-slash",
            "phone",
            r"(?:(?-u:\b)0\d{1,3}-|\(0\d\))?(?:\(\d{1,5}\)|(?-u:\b)\d{1,5})/[ \t]?(?:\d{3}[- ]?\d{4}|\d{5,10})(?-u:\b)".into(),
            0,
            Some(valid_slash_phone),
            0.6,
        ),
        s(
            "fax-context",
            "fax",
            r"(?i)(?-u:\b)fax(?:ed)?(?:\s*(?:no\.?|number|#))?(?:\s+(?:[a-z]+\s+){0,2}?(?:to|at|on))?\s*:?\s*(\(?\+?\(?\d[\d()./ \t-]{5,18}\d)(?-u:\b)".into(),
            1,
            Some(valid_context_phone),
            0.95,
        ),
        // A number of any national format right after a word that announces a phone.
        s(
            "phone-context",
            "phone",
            r"(?i)(?-u:\b)(?:phone[ds]?(?:\s+(?:from|on|at))?|tel|telephone|mobile|cell|cellphone|desk|office|landline|direct|call(?:ed|ing)?(?:\s+(?:me|him|her|us|them))?(?:\s+(?:on|at|from))?|ring(?:\s+me)?(?:\s+(?:on|at))?|text(?:\s+me)?(?:\s+(?:on|at))?|sms|whatsapp|dial|(?:reach|contact)(?:ed|able)?(?:\s+(?:me|him|her|us|them))?\s+(?:at|on)|contact\s+number|(?:my|his|her|their|your|our)\s+(?:home\s+|work\s+|cell\s+|mobile\s+|phone\s+)?number|(?:not\s+)?answering(?:\s+(?:on|at))?|registered(?:\s+(?:mobile|phone|number))?)(?-u:\b)[\s:#.]*(?:is\s+)?(\(?\+?\(?\d[\d()./ \t-]{5,18}\d(?:[ \t]*(?:x|ext\.?|extension)[ \t]*\d{1,5})?)(?-u:\b)".into(),
            1,
            Some(valid_context_phone),
            0.8,
        ),
        // A number labelled after it, as contact blocks do (`781 1704 office`, `…-Fax`).
        s(
            "phone-label",
            "phone",
            r"(?:^|[^0-9A-Za-z_+(])(\+?\(?\d[\d(). \t-]{5,18}\d(?:x\d{1,5})?)[ \t]*[-(,]?[ \t]*(?i:office|mobile|cell|home|work|landline|phone)(?-u:\b)".into(),
            1,
            Some(valid_labelled_phone),
            0.75,
        ),
        s(
            "fax-label",
            "fax",
            r"(?:^|[^0-9A-Za-z_+(])(\+?\(?\d[\d(). \t-]{5,18}\d(?:x\d{1,5})?)[ \t]*[-(,]?[ \t]*(?i:fax)(?-u:\b)".into(),
            1,
            Some(valid_labelled_phone),
            0.8,
        ),
        s("date-iso", "event_date", r"(?-u:\b)\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?-u:\b)".into(), 0, Some(valid_ymd), 0.95),
        s("date-numeric", "event_date", r"(?-u:\b)\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?-u:\b)".into(), 0, Some(valid_mdy), 0.9),
        s("date-month-day", "event_date", r"(?-u:\b)\d{1,2}/\d{1,2}(?-u:\b)".into(), 0, Some(valid_md), 0.6),
        s(
            "date-text",
            "event_date",
            format!(r"(?-u:\b){MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}(?-u:\b)|(?-u:\b)\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH}\.?,?\s+\d{{4}}(?-u:\b)|(?-u:\b){MONTH}\.?,?\s+\d{{4}}(?-u:\b)|(?-u:\b){MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?-u:\b)"),
            0,
            None,
            0.85,
        ),
        // A day and a month, a month and a year, or all three, as the other languages write
        // them: `14 de marzo de 2017`, `3. Mai 2019`, `23-octubre-1972`, `noviembre del
        // 2001`, `Junio 04`, `le 3 mars`.
        s(
            "date-text-intl",
            "event_date",
            format!(r"(?i)(?-u:\b)(?:\d{{1,2}}(?:\.|º|°)?[ \t]*(?:-|de[ \t]+)?)?{MONTH_INTL}(?:(?:[ \t]*,?[ \t]*(?:-|de[ \t]+|del[ \t]+)?[ \t]*)(?:\d{{4}}|'?\d{{2}}))?(?-u:\b)"),
            0,
            Some(valid_intl_date),
            0.85,
        ),
        s(
            "date-dashed-month",
            "event_date",
            format!(r"(?i)(?-u:\b)\d{{1,2}}-{MONTH}-(?:\d{{4}}|\d{{2}})(?-u:\b)|(?i)(?-u:\b){MONTH}-(?:\d{{4}}|\d{{2}})(?-u:\b)"),
            0,
            None,
            0.8,
        ),
        s(
            "age-over-89",
            "age",
            // In English and as the other languages write an age (`93 años`, `92 Jahre`,
            // `91-jährige`, `95 ans`, `90 anni`, `edad: 94`).
            r"(?i)(?-u:\b)(?:(?:9\d|1[01]\d)\s*(?:-|\s)?(?:y/?o(?-u:\b)|yo(?-u:\b)|y\.o\.|years?[- ]old|year-old|yrs?[- ]old|años(?-u:\b)|anos(?-u:\b)|a\.(?-u:\b)|jahre(?-u:\b)|j\.(?-u:\b)|jährige[rnms]?(?-u:\b)|ans(?-u:\b)|anni(?-u:\b))|(?:aged?|age:|edad:?|alter:?|idade:?)\s*(?:9\d|1[01]\d)(?:\s*(?:years?|yrs?|años|anos|jahre|ans|anni)(?-u:\b))?(?-u:\b))".into(),
            0,
            None,
            0.9,
        ),
        s(
            "mrn-context",
            "mrn",
            r"(?i)(?-u:\b)(?:mrn|medical record(?: number| no\.?| #)?|chart(?: number| no\.?| #))\s*(?:#|:|is|number)?\s*:?\s*([A-Z0-9][A-Z0-9-]{3,19})(?-u:\b)".into(),
            1,
            Some(has_digit),
            0.95,
        ),
        s(
            "account-context",
            "account",
            r"(?i)(?-u:\b)(?:acct|account|invoice|claim)(?: number| no\.?| #)?\s*(?:#|:|is)?\s*:?\s*([A-Z0-9][A-Z0-9-]{3,24})(?-u:\b)".into(),
            1,
            Some(has_digit),
            0.9,
        ),
        s(
            "plan-id-context",
            "health_plan_id",
            r"(?i)(?-u:\b)(?:member|subscriber|policy|beneficiary|insurance|medicaid|medicare|health plan)\s*(?:id|number|no\.?|#)\s*(?:#|:|is)?\s*:?\s*([A-Z0-9][A-Z0-9-]{3,24})(?-u:\b)".into(),
            1,
            Some(has_digit),
            0.9,
        ),
        s(
            "license-context",
            "license",
            r"(?i)(?-u:\b)(?:driver'?s?\s+licen[cs]e|licen[cs]e|DL|NPI|DEA)(?:\s+(?:number|no\.?|#))?\s*(?:#|:|is)?\s*:?\s*([A-Z0-9][A-Z0-9-]{4,14})(?-u:\b)".into(),
            1,
            Some(has_digit),
            0.9,
        ),
        s(
            "passport-context",
            "passport",
            r"(?i)(?-u:\b)passport(?:\s+(?:number|no\.?|#))?\s*(?:#|:|is)?\s*:?\s*([A-Z0-9]{6,12})(?-u:\b)".into(),
            1,
            Some(has_digit),
            0.9,
        ),
        s("vin", "vehicle_id", r"(?-u:\b)[A-HJ-NPR-Z0-9]{17}(?-u:\b)".into(), 0, Some(valid_vin), 0.9),
        s(
            "device-context",
            "device_id",
            r"(?i)(?-u:\b)(?:serial|device|udi|implant)(?:\s+(?:number|no\.?|#|id))?\s*(?:#|:|is)?\s*:?\s*([A-Z0-9(][A-Z0-9()-]{5,40})".into(),
            1,
            Some(has_digit),
            0.85,
        ),
        s(
            "zip-state",
            "zip",
            format!(r"(?-u:\b){US_STATES},?\s+(\d{{5}}(?:-\d{{4}})?)(?-u:\b)"),
            1,
            None,
            0.9,
        ),
        s(
            "zip-context",
            "zip",
            r"(?i)(?-u:\b)(?:zip(?:\s*code)?|postal\s*code|post\s*code|postcode|cep|plz|código\s+postal|code\s+postal|codice\s+postale|postnummer|postinumero|kod\s+pocztowy)(?:\s+is)?\s*:?\s*(\d{5}-\d{4}|\d{5}-\d{3}|\d{4}-\d{3}|\d{2}-\d{3}|[A-Za-z]\d[A-Za-z]\s?\d[A-Za-z]\d|\d{4}\s?[A-Za-z]{2}|\d{3}\s\d{2}|\d{3,5})(?-u:\b)".into(),
            1,
            None,
            0.95,
        ),
        s(
            "street",
            "street",
            format!(r"(?-u:\b)(?:\d{{1,5}}/)?\d{{1,6}}[A-Za-z]?,?\s+\p{{Lu}}[\p{{L}}\p{{N}}'’.-]*\s+(?:(?:\p{{Lu}}[\p{{L}}\p{{N}}'’.-]*|\d{{1,5}})\s+){{0,3}}{STREET_SUFFIX}(?-u:\b)\.?(?:[ \t]+(?:North|South|East|West|[NS][EW]?|[EW])(?-u:\b)\.?)?(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|#|Room|Rm)\.?\s*[A-Za-z0-9-]+)?"),
            0,
            None,
            0.85,
        ),
        s(
            "street-compound",
            "street",
            format!(r"(?:(?-u:\b)|\s)\p{{Lu}}\p{{Ll}}+(?:-\p{{Lu}}\p{{Ll}}+)*-?(?i:{STREET_COMPOUND})\s+\d{{1,5}}[A-Za-z]?(?:[/-]\d{{1,4}}[A-Za-z]?)?(?-u:\b)"),
            0,
            None,
            0.85,
        ),
        s(
            "street-prefix",
            "street",
            format!(r"(?-u:\b){STREET_PREFIX}\s+(?:{NAME_CONNECTOR}\s+){{0,2}}\p{{Lu}}[\p{{L}}'’.-]*(?:\s+(?:{NAME_CONNECTOR}\s+){{0,2}}\p{{Lu}}[\p{{L}}'’.-]*){{0,4}},?\s+(?:(?:(?:No|Nr|Nº)\.?\s*)?\d{{1,5}}[A-Za-z]?(?-u:\b)|S/N(?-u:\b))"),
            0,
            None,
            0.85,
        ),
        // A street whose type leads its name needs no number: the type says street
        // (`Aleea Preda, Jilava`, `Praça Matos`). Only types that are no English word.
        s(
            "street-prefix-named",
            "street",
            format!(r"(?-u:\b)(?:{STREET_PREFIX_STRONG})\s+(?:{NAME_CONNECTOR}\s+){{0,2}}\p{{Lu}}[\p{{L}}'’.-]*(?:\s+(?:{NAME_CONNECTOR}\s+){{0,2}}\p{{Lu}}[\p{{L}}'’.-]*){{0,3}}"),
            0,
            None,
            0.8,
        ),
        // A street type written as its own word after the name (`Villacher Strasse 89`,
        // `Király u. 15.`, `Nieuwe Baan 473`).
        s(
            "street-word",
            "street",
            r"(?:(?-u:\b)|\s)\p{Lu}[\p{L}'’-]+(?:\s+\p{L}[\p{L}'’-]+)?\s+(?:Strasse|Straße|Str\.|Gasse|Weg|Allee|Allé|Platz|Plads|Torv|Baan|Laan|Straat|Plein|Vej|Gade|Gata|Gatan|Vei|Veien|(?i:utca|u\.|útja|út|tér|körút|krt\.|rakpart|rkp\.|sétány|fasor|köz|ulica|ul\.|cesta|náměstí|nám\.|třída|trg|bulevardi)|Katu|Tie)\s+\d{1,5}[A-Za-z]?(?:/\d{1,4}[A-Za-z]?)?\.?".into(),
            0,
            None,
            0.85,
        ),
        // A house number before a street type that leads its name (`29 Rue de Tanger`,
        // `2613 avenida praia`).
        s(
            "street-number-prefix",
            "street",
            format!(r"(?-u:\b)\d{{1,5}}[A-Za-z]?,?\s+(?:(?i:rue|avenue|avenida|avda\.|calle|c/|rua|rúa|chemin|boulevard|bd\.|allée|impasse|quai|piazza|viale|corso|largo|travessa|praça|paseo|camino|carrera|calea|strada|ulica)|Via|Place|Av\.?)\s+(?:(?i:{NAME_CONNECTOR})\s+){{0,2}}\p{{L}}[\p{{L}}'’.-]+(?:\s+(?:(?i:{NAME_CONNECTOR})\s+){{0,2}}\p{{Lu}}[\p{{L}}'’.-]+){{0,4}}"),
            0,
            None,
            0.8,
        ),
        // `28030 Edeby 55`: a building number, a name and a house number, where the words
        // before it speak of an address.
        {
            let mut d = s(
                "street-numbered",
                "street",
                r"(?-u:\b)\d{1,6}\s+\p{Lu}[\p{L}'’-]*\p{Ll}[\p{L}'’-]*(?:\s+\p{Lu}[\p{L}'’.-]+){0,2}\s+\d{1,5}[A-Za-z]?(?-u:\b)".into(),
                0,
                None,
                0.7,
            );
            d.0.context = ["address", "addr", "live", "lives", "lived", "living", "reside", "residence", "home", "located", "moved", "ship", "mail", "billing", "street", "corner"]
                .into_iter()
                .map(String::from)
                .collect();
            d
        },
        // A street named without a house number after a word that places something on it
        // (`shows on Marina Fort Street`, `enter on Hoge Wei 32 St.`): Safe Harbor removes
        // streets, not only street addresses. Only the unambiguous street types.
        s(
            "street-named",
            "street",
            r"(?-u:\b)(?:on|at|along|off|near|of)[ \t]+((?:\p{Lu}[\p{L}'’.-]*[ \t]+){1,3}(?:\d{1,5}[ \t]+)?(?:(?:Street|Avenue|Road|Boulevard|Lane|Drive|Parkway|Highway|Terrace)(?-u:\b)|(?:St|Ave|Rd|Blvd)\.))".into(),
            1,
            None,
            0.75,
        ),
        // Whose relative (`Usamov's wife`): a possessive before a kin word names a person.
        s(
            "name-kin",
            "name",
            r"(?:^|[^\p{L}\p{N}'’-])(\p{Lu}\p{Ll}[\p{L}-]*)(?:'s|’s)[ \t]+(?:wife|husband|partner|son|daughter|mother|father|sister|brother|children|kids|grandmother|grandfather|grandson|granddaughter|aunt|uncle|niece|nephew|fianc[ée]e?|girlfriend|boyfriend|widow|widower)(?-u:\b)".into(),
            1,
            Some(not_common_word),
            0.7,
        ),
        // A street of any country's naming (`Kojetická 7`, `Strandbråten 47`, `Před Rybníkem
        // 36`) right after words that announce an address: the words carry the evidence that
        // a street type gives elsewhere, so a dose (`Metformin 500`) stays out.
        s(
            "street-cued",
            "street",
            r"(?i:(?-u:\b)address(?:\s+is)?|(?-u:\b)(?:lives?|living|lived|resides?|residing|located|situated|stay(?:s|ing)?)\s+(?:at|on)|(?-u:\b)(?:moved|relocated|send|sent|mail(?:ed)?|ship(?:ped)?|deliver(?:ed)?|forward(?:ed)?)\s+(?:\p{L}+\s+){0,2}?to|(?-u:\b)home\s+(?:at|on))[ \t]*:?[ \t]*(\p{Lu}[\p{L}'’.-]*(?:[ \t]+(?:\p{Lu}[\p{L}'’.-]*|d[aeiou]|de[il]?|v|na|nad|pod|am|an|der|den|van|von)){0,3},?[ \t]+\d{1,5}[A-Za-z]?(?:/\d{1,4}[A-Za-z]?)?)(?-u:\b)".into(),
            1,
            Some(valid_cued_street),
            0.75,
        ),
        // Secondary unit designators (USPS Publication 28 and their common spellings), alone.
        s(
            "street-unit",
            "street",
            format!(r"(?i)(?-u:\b)(?:{UNIT_DESIGNATORS})\.?\s*#?\s*\d{{1,5}}[A-Z]?(?-u:\b)"),
            0,
            None,
            0.75,
        ),
        // US military mail: PSC / Unit / CMR with a box, and the APO/FPO/DPO line; a ship
        // (`USNS Bergman`) with its FPO line.
        s(
            "street-military",
            "street",
            r"(?i)(?-u:\b)(?:(?:PSC|Unit|CMR)\s+\d{3,5},?\s+Box\s+\d{1,5}(?:\s*\n?\s*(?:APO|FPO|DPO)\s+A[AEP]\s+\d{5})?|(?:USNS|USNV|USCGC|USS)\s+\p{L}[\p{L}'’-]*(?:[ \t]+\p{L}[\p{L}'’-]*){0,2},?\s*\n?\s*FPO\s+A[AEP]\s+\d{5})".into(),
            0,
            None,
            0.9,
        ),
        // `the corner of 25 Dili Gianni Street and King Forges`: the first street carries a
        // number, which keeps anatomy (`the corner of the mouth and`) out.
        s(
            "street-corner",
            "street",
            r"(?i:(?-u:\b)(?:the\s+)?corner\s+of)[ \t]+(?:[\p{L}.'’-]+[ \t]+){0,3}\d{1,5}[A-Za-z]?(?:[ \t]+[\p{L}.'’-]+){0,3}?[ \t]+(?i:and|&)[ \t]+[\p{L}\d][\p{L}\d.'’-]*(?:[ \t]+\p{L}[\p{L}.'’-]*)?".into(),
            0,
            None,
            0.8,
        ),
        s(
            "po-box",
            "street",
            r"(?i)(?-u:\b)P\.?\s?O\.?\s+Box\s+\d+(?-u:\b)".into(),
            0,
            None,
            0.9,
        ),
        s(
            "name-title",
            "name",
            r"(?-u:\b)(?:Dr|Dra|Mr|Mrs|Ms|Miss|Mx|Prof|Rev|Sr|Sra|Srta|Dña|Hr|Herr|Fr|Frau|Mme|Mlle|Sig(?:\.ra|\.na)?|Dott(?:\.ssa)?)\.?(?:\s+(?:med|dent|rer\.\s?nat)\.)?\s+((?:\p{Lu}[\p{L}'’-]*\p{Ll}[\p{L}'’-]*|\p{Lu}\.)(?:\s+(?:\p{Lu}[\p{L}'’-]*\p{Ll}[\p{L}'’-]*|\p{Lu}\.)){0,2})".into(),
            1,
            None,
            0.85,
        ),
        // A name after a word that introduces one (a role, a relative, `named`, in the
        // languages the lexicons cover); in a script without capitals (Han, Hangul,
        // Thai, Hebrew, Arabic, Devanagari) the word is the only evidence, so the whole run of
        // that script's words after it is the name.
        s(
            "name-context",
            "name",
            r"(?:(?-u:\b)(?i:patient|pt|name|(?:my\s+)?name\s+is|called|named|married|i\s+am|i'm|dear|hello|hi|hey|thanks|thank\s+you,?|greetings|regards,?|sincerely,?|cc|attn|(?:seen|signed|cosigned|co-signed|dictated|referred|reviewed|examined|evaluated|approved|verified|transcribed|accompanied|visited|witnessed|authored|prepared)\s+by|attending|physician|provider|surgeon|nurse|contact|guardian|caregiver|mother|father|spouse|wife|husband|partner|son|daughter|sister|brother|grandmother|grandfather|aunt|uncle|niece|nephew|fianc[ée]e?|girlfriend|boyfriend|roommate|neighbou?r|hija|hijo|esposa|esposo|marido|madre|padre|hermana|hermano|abuela|abuelo|nieta|nieto|pareja|c[óo]nyuge|paciente|llamad[oa]|ehefrau|ehemann|tochter|sohn|mutter|vater|schwester|bruder|partnerin|lebensgef[äa]hrt(?:e|in)|patientin|genannt|mari|fille|fils|m[èe]re|p[èe]re|fr[èe]re|nomm[ée]e?|filha|filho|m[ãa]e|irm[ãa]o?|chamad[oa]|moglie|marito|figlia|figlio|sorella|fratello|chiamat[oa])\s*:?\s+)(\p{Lu}\p{Ll}[\p{L}'’-]*(?:\s+(?:\p{Lu}\.|\p{Lu}[\p{L}'’-]*\p{Ll}[\p{L}'’-]*)){0,2}|[\p{Han}\p{Hangul}\p{Hiragana}\p{Katakana}\p{Thai}\p{Hebrew}\p{Arabic}\p{Devanagari}\p{Mn}\p{Mc}]+(?:[ \t][\p{Han}\p{Hangul}\p{Hiragana}\p{Katakana}\p{Thai}\p{Hebrew}\p{Arabic}\p{Devanagari}\p{Mn}\p{Mc}]+){0,3})".into(),
            1,
            Some(not_common_word),
            0.7,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::specs;

    #[test]
    fn built_in_word_boundaries_are_ascii() {
        for (spec, pattern) in specs() {
            assert!(
                !pattern.replace(r"(?-u:\b)", "").contains(r"\b"),
                "{}: a Unicode \\b",
                spec.id
            );
        }
    }
}
