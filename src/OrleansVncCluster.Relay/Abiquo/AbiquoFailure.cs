namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>What kind of failure an Abiquo request met.</summary>
public enum AbiquoFailure
{
    /// <summary>The API answered with an error status (see <see cref="AbiquoException.StatusCode"/>).</summary>
    HttpStatus,

    /// <summary>No complete answer within <see cref="AbiquoOptions.Timeout"/>.</summary>
    Timeout,

    /// <summary>Connection refused or reset, DNS, TLS (an untrusted certificate lands here).</summary>
    Network,

    /// <summary>An answer that is not the expected JSON: HTML, empty, malformed or truncated, or paging that loops.</summary>
    InvalidResponse,

    /// <summary>Nothing was sent: the configuration is unusable (e.g. the password file cannot be read).</summary>
    Configuration,
}
