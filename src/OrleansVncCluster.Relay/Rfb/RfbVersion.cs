namespace OrleansVncCluster.Relay.Rfb;

/// <summary>The protocol versions the relay speaks on either side (RFC 6143 section 7.1.1); 3.5 and unknown 3.x below
/// 3.7 count as 3.3, as the RFC asks.</summary>
public enum RfbVersion
{
    /// <summary>RFB 3.3: the server picks the security type; no SecurityResult after None; failures carry no reason.</summary>
    V3_3 = 3,

    /// <summary>RFB 3.7: the client picks the security type; no SecurityResult after None; failures carry no reason.</summary>
    V3_7 = 7,

    /// <summary>RFB 3.8: a SecurityResult always, with a reason on failure.</summary>
    V3_8 = 8,
}
