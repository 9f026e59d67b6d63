//! Words no attack may modify: NLTK's English list (TextAttack's default, which PWWS, TextBugger
//! and BERT-Attack use) and the TextFooler recipe's own, longer list.

use serde::{Deserialize, Serialize};

/// Which stop-word list a recipe protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopWords {
    /// NLTK's English stop words (179).
    Nltk,
    /// The 266 words of TextAttack's `textfooler_jin_2019.py` (from Jin et al.'s code).
    TextFooler,
}

impl StopWords {
    /// Whether `word` (lower case) is on the list.
    pub fn contains(self, word: &str) -> bool {
        match self {
            StopWords::Nltk => STOP_WORDS.contains(&word),
            StopWords::TextFooler => TEXT_FOOLER_STOP_WORDS.contains(&word),
        }
    }
}

const TEXT_FOOLER_STOP_WORDS: &[&str] = &[
    "a", "about", "above", "across", "after", "afterwards", "again", "against", "ain", "all", "almost", "alone",
    "along", "already", "also", "although", "am", "among", "amongst", "an", "and", "another", "any", "anyhow",
    "anyone", "anything", "anyway", "anywhere", "are", "aren", "aren't", "around", "as", "at", "back", "been",
    "before", "beforehand", "behind", "being", "below", "beside", "besides", "between", "beyond", "both", "but",
    "by", "can", "cannot", "could", "couldn", "couldn't", "d", "didn", "didn't", "doesn", "doesn't", "don",
    "don't", "down", "due", "during", "either", "else", "elsewhere", "empty", "enough", "even", "ever",
    "everyone", "everything", "everywhere", "except", "first", "for", "former", "formerly", "from", "hadn",
    "hadn't", "hasn", "hasn't", "haven", "haven't", "he", "hence", "her", "here", "hereafter", "hereby",
    "herein", "hereupon", "hers", "herself", "him", "himself", "his", "how", "however", "hundred", "i", "if",
    "in", "indeed", "into", "is", "isn", "isn't", "it", "it's", "its", "itself", "just", "latter", "latterly",
    "least", "ll", "may", "me", "meanwhile", "mightn", "mightn't", "mine", "more", "moreover", "most", "mostly",
    "must", "mustn", "mustn't", "my", "myself", "namely", "needn", "needn't", "neither", "never", "nevertheless",
    "next", "no", "nobody", "none", "noone", "nor", "not", "nothing", "now", "nowhere", "o", "of", "off", "on",
    "once", "one", "only", "onto", "or", "other", "others", "otherwise", "our", "ours", "ourselves", "out",
    "over", "per", "please", "s", "same", "shan", "shan't", "she", "she's", "should've", "shouldn", "shouldn't",
    "somehow", "something", "sometime", "somewhere", "such", "t", "than", "that", "that'll", "the", "their",
    "theirs", "them", "themselves", "then", "thence", "there", "thereafter", "thereby", "therefore", "therein",
    "thereupon", "these", "they", "this", "those", "through", "throughout", "thru", "thus", "to", "too",
    "toward", "towards", "under", "unless", "until", "up", "upon", "used", "ve", "was", "wasn", "wasn't", "we",
    "were", "weren", "weren't", "what", "whatever", "when", "whence", "whenever", "where", "whereafter",
    "whereas", "whereby", "wherein", "whereupon", "wherever", "whether", "which", "while", "whither", "who",
    "whoever", "whole", "whom", "whose", "why", "with", "within", "without", "won", "won't", "would", "wouldn",
    "wouldn't", "y", "yet", "you", "you'd", "you'll", "you're", "you've", "your", "yours", "yourself",
    "yourselves",
];

const STOP_WORDS: &[&str] = &[
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "you're", "you've", "you'll", "you'd",
    "your", "yours", "yourself", "yourselves", "he", "him", "his", "himself", "she", "she's", "her", "hers",
    "herself", "it", "it's", "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which",
    "who", "whom", "this", "that", "that'll", "these", "those", "am", "is", "are", "was", "were", "be", "been",
    "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an", "the", "and", "but", "if",
    "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about", "against", "between",
    "into", "through", "during", "before", "after", "above", "below", "to", "from", "up", "down", "in", "out",
    "on", "off", "over", "under", "again", "further", "then", "once", "here", "there", "when", "where", "why",
    "how", "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor", "not",
    "only", "own", "same", "so", "than", "too", "very", "s", "t", "can", "will", "just", "don", "don't",
    "should", "should've", "now", "d", "ll", "m", "o", "re", "ve", "y", "ain", "aren", "aren't", "couldn",
    "couldn't", "didn", "didn't", "doesn", "doesn't", "hadn", "hadn't", "hasn", "hasn't", "haven", "haven't",
    "isn", "isn't", "ma", "mightn", "mightn't", "mustn", "mustn't", "needn", "needn't", "shan", "shan't",
    "shouldn", "shouldn't", "wasn", "wasn't", "weren", "weren't", "won", "won't", "wouldn", "wouldn't",
];

/// Whether `word` (lower case) is an NLTK stop word.
pub fn is_stop_word(word: &str) -> bool {
    StopWords::Nltk.contains(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_are_the_recipes_own() {
        assert_eq!((STOP_WORDS.len(), TEXT_FOOLER_STOP_WORDS.len()), (179, 266));
        // TextFooler protects words NLTK does not, and the reverse.
        assert!(StopWords::TextFooler.contains("nevertheless") && !StopWords::Nltk.contains("nevertheless"));
        assert!(StopWords::Nltk.contains("very") && !StopWords::TextFooler.contains("very"));
        assert!(!StopWords::TextFooler.contains("good"));
    }
}
