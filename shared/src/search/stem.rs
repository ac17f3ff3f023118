//! A small, conservative stemmer for the words of Pantau's two languages.
//!
//! One function for every word, whatever the item's language, so a query word and an indexed
//! word meet whenever they share a root: the query does not know the language of what it
//! looks for. It takes, in order:
//!
//! 1. English inflections: plurals (`countries` → `country`, `embassies`, `crises` stays),
//!    `-ing`, `-ed`;
//! 2. Indonesian particles and possessives: `-lah`, `-kah`, `-nya`;
//! 3. Indonesian derivational suffixes: `-kan`, `-an`, and `-i` when a prefix is also present
//!    (a bare final `i` is too often part of the root: `evakuasi`, `polisi`, `menteri`);
//! 4. Indonesian prefixes, at most two (`diperkirakan` → `kira`): `di-`, `ke-`, `ter-`,
//!    `ber-`, `per-`, `pe-`/`me-` with their nasal forms (`mem-`, `men-`, `meng-`, `meny-`;
//!    `memukul` → `pukul`, `menulis` → `tulis`, `menyerang` → `serang`).
//!
//! Every step keeps at least [`MIN_ROOT`] letters, so short words are left alone (`kenya`,
//! `perang`, `iran`). Without a dictionary some roots come out odd (`disaster` → `saster`):
//! that costs nothing, since query and index go through the same function; what matters is
//! that the forms of one word meet and different words rarely do.

/// The fewest letters a stripping step may leave.
pub const MIN_ROOT: usize = 4;

/// The stem of one folded word (lower case, accents removed: see `crate::lexicon::fold`).
/// Words with digits or letters outside a–z are returned unchanged.
pub fn stem(word: &str) -> String {
    if word.len() <= MIN_ROOT || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return word.to_owned();
    }
    let english = english(word);
    indonesian(&english)
}

/// `w` without `suffix` when that leaves at least [`MIN_ROOT`] letters.
fn cut_suffix<'a>(w: &'a str, suffix: &str) -> Option<&'a str> {
    w.strip_suffix(suffix).filter(|rest| rest.len() >= MIN_ROOT)
}

fn english(word: &str) -> String {
    let singular = english_singular(word);
    let w = singular.as_str();
    match cut_suffix(w, "ing").or_else(|| cut_suffix(w, "ed")) {
        Some(rest) => rest.to_owned(),
        None => singular.clone(),
    }
}

fn english_singular(w: &str) -> String {
    if let Some(rest) = cut_suffix(w, "ies") {
        return format!("{rest}y");
    }
    for ending in ["sses", "shes", "ches", "xes"] {
        if w.ends_with(ending) {
            return w[..w.len() - 2].to_owned();
        }
    }
    // `-as`, `-us`, `-is`, `-ss` end many Indonesian and Latin words (`petugas`, `kasus`,
    // `krisis`, `press`): left alone.
    if w.ends_with('s')
        && !["as", "us", "is", "ss"].iter().any(|e| w.ends_with(e))
        && let Some(rest) = cut_suffix(w, "s")
    {
        return rest.to_owned();
    }
    w.to_owned()
}

fn indonesian(word: &str) -> String {
    let mut w = word;
    // Particles, then possessive: `kebakarannya` → `kebakaran`.
    for particle in ["lah", "kah"] {
        if let Some(rest) = cut_suffix(w, particle) {
            w = rest;
            break;
        }
    }
    if let Some(rest) = cut_suffix(w, "nya") {
        w = rest;
    }
    // pe-…-an and ke-…-an make nouns (there is no pe-…-kan), so there `-an` goes first:
    // `penculikan` is `culik`, while `disampaikan` is `sampai`.
    let nominal = w.starts_with("pe") || w.starts_with("ke");
    let derived = if nominal {
        cut_suffix(w, "an")
    } else {
        cut_suffix(w, "kan").or_else(|| cut_suffix(w, "an"))
    };
    if let Some(rest) = derived {
        w = rest;
    } else if !w.ends_with("si")
        && let Some(rest) = cut_suffix(w, "i")
        && strip_prefix(rest).is_some()
    {
        // `-i` only with a prefix that still leaves a root (`didatangi`, not `terjadi`).
        w = rest;
    }
    let mut root = w.to_owned();
    for _ in 0..2 {
        match strip_prefix(&root) {
            Some(rest) => root = rest,
            None => break,
        }
    }
    root
}

/// `w` without one Indonesian prefix (nasal forms restored), when one fits and leaves at
/// least [`MIN_ROOT`] letters.
fn strip_prefix(w: &str) -> Option<String> {
    let is_vowel = |c: Option<char>| matches!(c, Some('a' | 'e' | 'i' | 'o' | 'u'));
    let keep = |root: String| (root.len() >= MIN_ROOT).then_some(root);
    for plain in ["di", "ter", "ber", "per", "ke"] {
        if let Some(rest) = w.strip_prefix(plain)
            && let Some(root) = keep(rest.to_owned())
        {
            return Some(root);
        }
    }
    // me- and pe- share their nasal forms; the longest form that fits wins.
    let rest = w.strip_prefix("me").or_else(|| w.strip_prefix("pe"))?;
    let first = rest.chars().next();
    if w.starts_with("pe") && first == Some('r') {
        // pe- before r is per-, tried above (`perang` stays).
        return None;
    }
    let after = |n: usize| rest.get(n..).unwrap_or("");
    let root = if let Some(r) = rest.strip_prefix("ng") {
        // meng- before a vowel, g, h or k: the root starts as written (`mengambil`).
        r.to_owned()
    } else if rest.starts_with("ny") && is_vowel(rest.chars().nth(2)) {
        // meny- replaces an s (`menyerang` → `serang`).
        format!("s{}", after(2))
    } else if let Some(r) = rest.strip_prefix('m') {
        // mem- before b, f, v keeps it; before a vowel it replaced a p (`memukul` → `pukul`).
        if is_vowel(r.chars().next()) {
            format!("p{r}")
        } else {
            r.to_owned()
        }
    } else if let Some(r) = rest.strip_prefix('n') {
        // men- before c, d, j keeps it; before a vowel it replaced a t (`menulis` → `tulis`).
        if is_vowel(r.chars().next()) {
            format!("t{r}")
        } else {
            r.to_owned()
        }
    } else if matches!(first, Some('l' | 'r' | 'w' | 'y')) || !is_vowel(first) {
        // me-/pe- before l, r, w, y and other consonants (`melihat`, `pekerja`).
        rest.to_owned()
    } else {
        return None;
    };
    keep(root)
}

#[cfg(test)]
mod tests {
    use super::stem;

    fn same_root(words: &[&str], root: &str) {
        for w in words {
            assert_eq!(stem(w), root, "stem of {w}");
        }
    }

    #[test]
    fn indonesian_affixes_meet_at_the_root() {
        same_root(&["evakuasi", "dievakuasi", "mengevakuasi"], "evakuasi");
        same_root(
            &["kebakaran", "kebakarannya", "terbakar", "dibakar"],
            "bakar",
        );
        same_root(&["penculikan", "diculik", "menculik"], "culik");
        same_root(&["disampaikan", "menyampaikan", "sampai"], "sampai");
        same_root(&["pengungsi", "mengungsi", "pengungsian"], "ungsi");
        same_root(&["bertemu", "pertemuan", "pertemuannya"], "temu");
        same_root(&["memukul", "dipukul", "pukulan"], "pukul");
        same_root(&["menulis", "ditulis", "tulisan"], "tulis");
        same_root(&["menyerang", "diserang", "serangan"], "serang");
        same_root(&["membantu", "bantuan", "dibantu", "bantulah"], "bantu");
        same_root(&["kedutaan", "duta"], "duta");
        same_root(&["diperkirakan", "perkiraan"], "kira");
        same_root(&["didatangi", "mendatangi", "kedatangan"], "datang");
        same_root(&["dihadiri", "menghadiri", "kehadiran"], "hadir");
        same_root(&["keamanan", "mengamankan", "diamankan"], "aman");
        same_root(&["peringatan", "mengingatkan", "diingatkan"], "ingat");
        same_root(&["perdagangan", "pedagang"], "dagang");
        same_root(&["terjadi", "kejadian"], "jadi");
        same_root(&["petugas", "tugas", "bertugas"], "tugas");
        assert_eq!(stem("menteri"), stem("kementerian"));
        same_root(&["menanggapi", "tanggapan", "ditanggapi"], "tanggap");
    }

    #[test]
    fn short_words_and_root_like_endings_are_left_alone() {
        for w in [
            "kenya", "perang", "iran", "polisi", "kasus", "krisis", "wni", "situasi",
        ] {
            assert_eq!(stem(w), w);
        }
    }

    #[test]
    fn english_plurals_and_inflections_meet() {
        same_root(&["country", "countries"], "country");
        same_root(&["embassy", "embassies"], "embassy");
        same_root(&["flood", "floods", "flooding", "flooded"], "flood");
        same_root(&["meeting", "meetings", "meet"], "meet");
        same_root(&["earthquake", "earthquakes"], "earthquake");
        assert_eq!(stem("disaster"), stem("disasters"));
        assert_eq!(stem("evacuation"), stem("evacuations"));
    }

    #[test]
    fn digits_and_other_scripts_are_kept_whole() {
        for w in ["g20", "2025", "東京", "москва"] {
            assert_eq!(stem(w), w);
        }
    }
}
