/// Edgebone's release, shown by `edgebone --version` and in the daemon's MQTT status.
public enum EdgeboneVersion {
    public static let string = "0.4.0"
}
