/// Every user of templates also handles their values and regular expressions: one import
/// gives all three.
@_exported import CohortRegex
@_exported import CohortValue
