//! HTTP in the core: the route table ([`routes`]), the request and reply the
//! shell translates ([`request`], [`reply`]), the dispatcher that checks each
//! route's access rule and calls its use case ([`dispatch`]), and the OpenAPI
//! document generated from the same table ([`openapi`]).

pub mod access;
pub mod dispatch;
pub mod openapi;
pub mod reply;
pub mod request;
pub mod routes;
pub mod session;

pub use dispatch::{handle, App};
pub use reply::Reply;
pub use request::{ApiRequest, Method};
