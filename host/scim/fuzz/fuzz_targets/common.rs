use ecma_scim::*;
use serde_json::{Value, json};

pub fn rt() -> ResourceTypeDef {
    let a = |n: &str, t| ExtensionAttribute {
        name: n.into(),
        attr_type: t,
        multi_valued: false,
        required: false,
        case_exact: false,
    };
    let ext = ecma2host_extension(
        ECMA2HOST_USER_URN,
        &[
            a("ContosoLogin", AttrType::String),
            a("Level", AttrType::Integer),
            a("Disabled", AttrType::Boolean),
        ],
    );
    user_resource_type(core_user_schema(), vec![enterprise_user_schema(), ext])
}

pub fn user() -> Value {
    json!({
        "schemas": [CORE_USER_URN, ENTERPRISE_USER_URN, ECMA2HOST_USER_URN],
        "id": "u1", "userName": "bjensen", "active": true, "name": {"givenName": "B"},
        "emails": [{"value": "b@example.com", "type": "work", "primary": true}, {"value": "b@home", "type": "home"}],
        "meta": {"lastModified": "2011-05-13T04:42:34Z"},
        ENTERPRISE_USER_URN: {"manager": {"value": "m"}, "department": "D"},
        ECMA2HOST_USER_URN: {"ContosoLogin": "b@contoso.com", "Level": 3, "Disabled": false}
    })
}
