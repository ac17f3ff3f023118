use hashbrown::HashMap;

use super::TEXT_TRIGRAMS_SIZE;
use super::Trigram;
use crate::core::LowercaseText;
use crate::utils::is_stop_char;

pub struct TrigramsWithPositions {
    pub(crate) _total_trigrams: u32,
    /// Pantau's change (see PANTAU.md): a list, not a map. The only reader goes through every
    /// trigram once (the distances are sums, whatever the order), so filling a second hash map
    /// was work for nothing.
    pub(crate) trigram_positions: Vec<(Trigram, u32)>,
}

#[inline]
pub fn get_trigrams_with_positions(text: &LowercaseText) -> TrigramsWithPositions {
    let CountResult {
        total_trigrams,
        trigram_occurances,
    } = count(text);
    let trigram_positions = trigram_occurances_to_positions(trigram_occurances);
    TrigramsWithPositions {
        _total_trigrams: total_trigrams,
        trigram_positions,
    }
}

/// The text's most frequent trigrams (at most `TEXT_TRIGRAMS_SIZE`), each with its rank:
/// by number of occurrences, then by trigram, both descending.
///
/// Pantau's change (see PANTAU.md): upstream sorts `(count, trigram)` tuples, comparing four
/// fields one after another; here each pair is packed into one integer that orders the same
/// way (count in the high bits, then the three characters' code points, which is how the
/// derived `Ord` of `Trigram` compares them). The keys are distinct, so the order, and with
/// it every rank, is the one upstream's sort gives.
#[inline]
fn trigram_occurances_to_positions(
    trigram_occurances: HashMap<Trigram, u32>,
) -> Vec<(Trigram, u32)> {
    let mut by_key: Vec<(u128, Trigram)> = trigram_occurances
        .into_iter()
        .map(|(trigram, count)| (sort_key(count, trigram), trigram))
        .collect();
    by_key.sort_unstable_by(|a, b| b.0.cmp(&a.0));

    by_key
        .into_iter()
        .take(TEXT_TRIGRAMS_SIZE) // we're interested only in the first 600 (2 * MAX_TRIGRAM_DISTANCE)
        .enumerate()
        .map(|(i, (_, trigram))| (trigram, i as u32))
        .collect()
}

/// `(count, trigram)` as one integer with the same order as the tuple's.
#[inline]
fn sort_key(count: u32, Trigram(a, b, c): Trigram) -> u128 {
    (u128::from(count) << 96) | (u128::from(a) << 64) | (u128::from(b) << 32) | u128::from(c)
}

/// Upstream's ranking, the reference for `trigram_occurances_to_positions`.
#[cfg(test)]
#[allow(clippy::unnecessary_sort_by)]
fn upstream_positions(trigram_occurances: HashMap<Trigram, u32>) -> Vec<(Trigram, u32)> {
    let mut count_vec: Vec<_> = trigram_occurances
        .into_iter()
        .map(|(trigram, count)| (count, trigram))
        .collect();
    count_vec.sort_unstable_by(|a, b| b.cmp(a));

    count_vec
        .into_iter()
        .take(TEXT_TRIGRAMS_SIZE)
        .enumerate()
        .map(|(i, (_, trigram))| (trigram, i as u32))
        .collect()
}

struct CountResult {
    total_trigrams: u32,
    trigram_occurances: HashMap<Trigram, u32>,
}

#[inline]
fn count(text: &LowercaseText) -> CountResult {
    let hash_capacity = calculate_initial_hash_capacity(text);
    let mut trigram_occurances: HashMap<Trigram, u32> = HashMap::with_capacity(hash_capacity);
    let mut total_trigrams = 0;

    // iterate through the string and count trigrams
    let mut chars_iter = text
        .chars()
        .map(to_trigram_char)
        //.flat_map(char::to_lowercase)
        .chain(Some(' '));
    let mut c1 = ' ';
    // unwrap is safe, because we always chain a space character on the end of the iterator
    let mut c2 = chars_iter.next().unwrap();
    for cur_char in chars_iter {
        let c3 = cur_char;
        if !(c2 == ' ' && (c1 == ' ' || c3 == ' ')) {
            let trigram = Trigram(c1, c2, c3);
            let count = trigram_occurances.entry(trigram).or_insert(0);
            *count += 1;
            total_trigrams += 1;
        }
        c1 = c2;
        c2 = c3;
    }

    CountResult {
        total_trigrams,
        trigram_occurances,
    }
}

// Convert punctuations and digits to a space.
#[inline]
fn to_trigram_char(ch: char) -> char {
    if is_stop_char(ch) { ' ' } else { ch }
}

// In order to improve performance, define the initial capacity for trigrams hash map,
// based on the size of the input text.
#[inline]
fn calculate_initial_hash_capacity(text: &str) -> usize {
    const MAX_INITIAL_HASH_CAPACITY: usize = 2048;

    let len = text.len();
    if len > MAX_INITIAL_HASH_CAPACITY {
        MAX_INITIAL_HASH_CAPACITY
    } else {
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_valuable_trigram_chars(chars: &[char]) {
        for &ch in chars.iter() {
            assert_eq!(to_trigram_char(ch), ch);
        }
    }

    fn assert_not_valuable_trigram_chars(chars: &[char]) {
        for &ch in chars.iter() {
            assert_eq!(to_trigram_char(ch), ' ');
        }
    }

    #[test]
    fn test_to_trigram_char() {
        // valuable chars, that matters
        assert_valuable_trigram_chars(&['a', 'z', 'A', 'Z', 'Ж', 'ß']);

        // punctuations, digits, etc..
        //
        // 0x00 - 0x40
        assert_not_valuable_trigram_chars(&['\t', '\n', ' ', '.', '0', '9', ',', '@']);
        // 0x5B - 0x60
        assert_not_valuable_trigram_chars(&['[', ']', '^', '\\', '`']);
        // 0x7B - 0x7E
        assert_not_valuable_trigram_chars(&['[', '|', '{', '}', '~']);
    }

    fn assert_count(text: &str, pairs: &[(&str, u32)]) {
        let lowercase_text = LowercaseText::new(text);
        let CountResult {
            total_trigrams: _,
            trigram_occurances,
        } = count(&lowercase_text);
        for &(trigram_str, expected_n) in pairs.iter() {
            let chars: Vec<char> = trigram_str.chars().collect();
            let trigram = Trigram(chars[0], chars[1], chars[2]);
            let actual_n = trigram_occurances[&trigram];
            assert_eq!(
                actual_n, expected_n,
                "trigram '{:?}' expected to occur {} times, got {}",
                trigram, expected_n, actual_n
            );
        }
        assert_eq!(trigram_occurances.len(), pairs.len());
    }

    #[test]
    fn test_count() {
        assert_count("", &[]);
        assert_count(",", &[]);
        assert_count("a", &[(" a ", 1)]);
        assert_count("-a-", &[(" a ", 1)]);
        assert_count("yes", &[(" ye", 1), ("yes", 1), ("es ", 1)]);
        assert_count(
            "Give - IT...",
            &[
                (" gi", 1),
                ("giv", 1),
                ("ive", 1),
                ("ve ", 1),
                (" it", 1),
                ("it ", 1),
            ],
        );
    }

    #[test]
    fn test_get_trigrams_with_positions() {
        let lowercase_text = LowercaseText::new("xaaaaabbbb    d");
        let TrigramsWithPositions {
            _total_trigrams,
            trigram_positions,
        } = get_trigrams_with_positions(&lowercase_text);

        let position = |trigram| {
            trigram_positions
                .iter()
                .find(|(t, _)| *t == trigram)
                .map(|(_, at)| *at)
        };
        assert_eq!(position(Trigram('a', 'a', 'a')), Some(0));
        assert_eq!(position(Trigram('b', 'b', 'b')), Some(1));
        assert_eq!(_total_trigrams, 11);
    }

    #[test]
    fn positions_equal_upstream_ones() {
        // Ties in count (ordered by trigram), non-ASCII letters, and more than
        // TEXT_TRIGRAMS_SIZE distinct trigrams (the cut must fall at the same place).
        let mut long = String::new();
        for i in 0..2_000u32 {
            let a = char::from_u32(0x61 + i % 26).unwrap();
            let b = char::from_u32(0xe0 + (i / 26) % 30).unwrap();
            long.push(a);
            long.push(b);
            long.push(if i % 7 == 0 { ' ' } else { 'ж' });
        }
        for text in [
            "xaaaaabbbb    d",
            "The quick brown fox jumps over the lazy dog, the end.",
            "Banjir Kelantan: 312 pekerja Indonesia dipindahkan ke PPS di Tumpat dan Pasir Mas",
            "Ärger über Öl, Straße und Maß; ça va, señor? Ёжик в тумане",
            &long,
        ] {
            let lowercase_text = LowercaseText::new(text);
            let ours = trigram_occurances_to_positions(count(&lowercase_text).trigram_occurances);
            let upstream = upstream_positions(count(&lowercase_text).trigram_occurances);
            assert_eq!(ours, upstream, "{text:?}");
        }
    }
}
