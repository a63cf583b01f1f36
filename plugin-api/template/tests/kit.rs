//! The connector kit against this connector, in process (`InProcessPlugin` calls it the way
//! the host does, without loading the library).

use plugin_api::host::InProcessPlugin;
use plugin_api::kit::{Kit, Sample};
use plugin_api::prelude::*;

use {{lib}}::{{type}};

#[test]
fn the_connector_passes_the_kit() {
    let plugin = InProcessPlugin::<{{type}}>::new().expect("initialize");
    let mut config = ConfigParameters::new();
    config.set("Store", "kit");
    let sample = Sample::new("User", "name", |key, text| {
        CsEntryChange::new("User", ObjectModification::Add)
            .with_anchor("id", key)
            .with_change(AttributeChange::add("name", [Value::from(text)]))
    });
    Kit::new(&plugin, config, sample).run().assert_passed();
}
