using System.Globalization;

namespace OrleansVncCluster.Relay.Rfb;

/// <summary>Security type and VeNCrypt subtype numbers (RFC 6143 section 7.2 and the VeNCrypt extension of the RFB
/// community specification, rfbproto.rst "VeNCrypt").</summary>
internal static class RfbSecurityTypes
{
    public const byte Invalid = 0;
    public const byte None = 1;
    public const byte VncAuthentication = 2;
    public const byte VeNCrypt = 19;

    public const uint Plain = 256;
    public const uint TlsNone = 257;
    public const uint TlsVnc = 258;
    public const uint TlsPlain = 259;
    public const uint X509None = 260;
    public const uint X509Vnc = 261;
    public const uint X509Plain = 262;

    public static string Name(uint type) => type switch
    {
        None => "None",
        VncAuthentication => "VncAuth",
        5 => "RA2",
        6 => "RA2ne",
        16 => "Tight",
        VeNCrypt => "VeNCrypt",
        22 => "xvp",
        30 => "DH",
        113 => "MSLogonII",
        Plain => "Plain",
        TlsNone => "TLSNone",
        TlsVnc => "TLSVnc",
        TlsPlain => "TLSPlain",
        X509None => "X509None",
        X509Vnc => "X509Vnc",
        X509Plain => "X509Plain",
        _ => type.ToString(CultureInfo.InvariantCulture),
    };

    public static string Names<T>(IEnumerable<T> types)
        where T : IConvertible =>
        string.Join(", ", types.Select(t => Name(t.ToUInt32(CultureInfo.InvariantCulture))));
}
