//! The stages of PAPER.md's pipeline, each a function from settings and a start model to a
//! run folder: fine-tune, mask search (paper or mask-only), draw, retrain. They share one
//! training loop ([`crate::train::fit`]) and one context ([`StageContext`]).

mod baselines;
mod context;
mod dev_attack;
mod draw;
mod export;
mod finetune;
mod refit;
mod retrain;
mod robustness;
mod search;
mod settings;

pub use baselines::{IMP_RATE, ImpRound, SharedImpRun, freelb_settings, gated_shapes, imp_masks, imp_schedule, random_masks};
pub use context::{StageContext, StageSummary};
pub use dev_attack::DevAttackOnSplit;
pub use draw::{DrawnTicket, SearchScores, draw_tickets, export_draws, percent_label, scores_from_file, scores_pooling};
pub use export::{TicketReport, binary_entropy, export_ticket};
pub use finetune::run_finetune;
pub use refit::{head_refit_config, refit_head};
pub use retrain::{RetrainHead, run_retrain};
pub use robustness::{AttackOptions, AttackSetup, AttackSummary, attack_examples, examples_table, logged_successes, summarise, summary_table};
pub use search::{SearchMode, run_search, scores_path, search_fit, search_settings, search_settings_on};
pub use settings::{StageSettings, base_fit};
