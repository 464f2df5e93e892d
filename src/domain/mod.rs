//! Plain types shared by every layer: ids, times, codes, the search facts of each resource and
//! the search criteria. Nothing here does I/O.

pub mod access;
pub mod agreement;
pub mod codes;
pub mod ids;
pub mod immunization;
pub mod outreach;
pub mod patient;
pub mod privacy;
pub mod resource;
pub mod scope;
pub mod search;
pub mod time;
