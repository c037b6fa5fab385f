//! The shipped example configuration parses, names every known key, and sets each to its default.

use std::path::Path;
use tgbox::config::{ConfigBuilder, KEYS};

#[test]
fn example_config_documents_every_key_with_its_default() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/tgbox.toml.example");
    let text = std::fs::read_to_string(&path).unwrap();
    let config = ConfigBuilder::new()
        .file_at(&path)
        .unwrap()
        .build()
        .unwrap();
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let defaults = ConfigBuilder::new().build().unwrap();
    assert_eq!(
        config.render_redacted().lines().count(),
        defaults.render_redacted().lines().count()
    );
    for key in KEYS {
        let name = key.key.split_once('.').unwrap().1;
        assert!(
            text.contains(&format!("{name} =")),
            "{} is not documented",
            key.key
        );
    }
    assert_eq!(config.storage.cache_mb, defaults.storage.cache_mb);
    assert_eq!(config.web.listen, defaults.web.listen);
    assert_eq!(config.telegram.api_url, defaults.telegram.api_url);
}
