//! stub
pub struct Community;
pub struct CommunitySpec;
pub struct TrafficReport;
pub fn build_community() {}
pub fn run_traffic() {}
