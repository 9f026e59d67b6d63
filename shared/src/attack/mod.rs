//! Word-substitution attacks (TextFooler, PWWS, TextBugger, BERT-Attack) on any model behind
//! the batched [`Victim`] interface; native and wasm32 alike.

mod bugs;
mod greedy;
mod masked_lm;
mod model_victim;
mod morphy;
pub mod neighbours;
pub mod recipe;
mod stopwords;
mod victim;
pub mod wordnet;
mod words;

pub use bugs::bugs;
#[cfg(not(target_arch = "wasm32"))]
pub use greedy::attack_blocking;
pub use greedy::{AttackEvent, AttackResult, Change, Outcome, Resources, attack};
pub use masked_lm::{MaskedLm, ModelMaskedLm};
pub use model_victim::{ClassifierVictim, MeanPoolEncoder};
pub use neighbours::NeighbourTable;
pub use recipe::{CandidateSource, Importance, Recipe, RecipeConfig, Segment, SimilarityConstraint, StopWords, TEXT_FOOLER_MIN_COSINE, TEXT_FOOLER_MIN_SIMILARITY};
pub use stopwords::is_stop_word;
pub use victim::{QueryError, QueryLedger, SentenceEncoder, Victim, angular, cosine};
pub use wordnet::{Pos, PosSet, WordNet};
pub use words::Words;

#[cfg(test)]
mod tests;
