/// The release this build is; `cohort --version` prints it.
public enum CohortVersion {
    public static let string = "0.7.0-dev"
}
