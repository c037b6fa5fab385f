//! What the features do, independent of Telegram and of the web: services take the store
//! through its traits (`SharedStore`) and return plain domain results that the bot and the
//! dashboard render.

pub mod broadcast;
pub mod forget;
pub mod html;
pub mod keys;
pub mod maintenance;
pub mod pacer;
mod rate_limit;
pub mod retention;
pub mod search;
pub mod stats;

pub use forget::{ForgetPreview, ForgetReport, ForgetService};
pub use maintenance::{
    CleanupHooks, CleanupStatus, IndexCompactor, IndexFigures, MaintenanceError,
    MaintenanceSchedule, MaintenanceService,
};
pub use rate_limit::RateLimiter;
pub use retention::{RetentionError, RetentionService, RetentionSettings, SweepReport};
pub use search::{
    Scope, SearchHit, SearchPage, SearchParams, SearchService, SearchServiceConfig,
    SearchServiceError,
};
pub use stats::{StatsService, TopPeriod};
