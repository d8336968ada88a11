using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OrleansVncCluster.Relay.Cluster;

/// <summary>
/// Silo-to-silo mutual TLS (configuration section "Cluster:Tls"): every node presents its certificate and accepts a
/// connection only from a peer whose certificate chains to the cluster's private CA, the one in <see cref="CaFile"/>
/// and nothing else (not the system's trust store). So a process without such a certificate can neither join the
/// membership nor send a grain call: its connections to the silo port end in the TLS handshake.
/// </summary>
public sealed class SiloTls
{
    /// <summary>Configuration section.</summary>
    public const string Section = "Cluster:Tls";

    /// <summary>Client and server authentication: every silo dials and is dialled.</summary>
    private static readonly string[] Usages = ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"];

    private SiloTls(string certificateFile, string? keyFile, string caFile, X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        CertificateFile = certificateFile;
        KeyFile = keyFile;
        CaFile = caFile;
        Certificate = certificate;
        Authorities = authorities;
    }

    /// <summary>This node's certificate (PEM), signed by the cluster CA.</summary>
    public string CertificateFile { get; }

    /// <summary>Its private key (PEM); none when the certificate file holds it too.</summary>
    public string? KeyFile { get; }

    /// <summary>The cluster CA's certificate (PEM): the only issuer whose certificates are let in.</summary>
    public string CaFile { get; }

    /// <summary>The loaded certificate with its key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA certificates of <see cref="CaFile"/>.</summary>
    public X509Certificate2Collection Authorities { get; }

    /// <summary>
    /// Reads Cluster:Tls:*: null when none is set (silo traffic in clear, as before), otherwise the loaded files, with
    /// every problem added to <paramref name="problems"/> in words that say what to fix.
    /// </summary>
    public static SiloTls? From(IConfiguration configuration, List<string> problems)
    {
        var certificateFile = configuration[$"{Section}:CertificateFile"] is { Length: > 0 } c ? c : null;
        var keyFile = configuration[$"{Section}:KeyFile"] is { Length: > 0 } k ? k : null;
        var caFile = configuration[$"{Section}:CaFile"] is { Length: > 0 } a ? a : null;
        if (certificateFile is null && keyFile is null && caFile is null)
        {
            return null;
        }

        var before = problems.Count;
        if (certificateFile is null || caFile is null)
        {
            problems.Add("Cluster:Tls needs both CertificateFile (this node's certificate, PEM) and CaFile (the cluster CA's certificate, PEM), "
                + "and KeyFile unless the certificate file holds the key; set all of them on every node, or none");
            return null;
        }

        foreach (var (key, file) in new[] { ("CertificateFile", certificateFile), ("KeyFile", keyFile), ("CaFile", caFile) })
        {
            if (file is not null && !File.Exists(file))
            {
                problems.Add($"Cluster:Tls:{key} '{file}' does not exist (or this user cannot see it); docs/OPERATIONS.md, Silo TLS, says how to make it");
            }
        }

        if (problems.Count > before)
        {
            return null;
        }

        var authorities = LoadAuthorities(caFile, problems);
        var certificate = LoadCertificate(certificateFile, keyFile, problems);
        if (certificate is null || authorities is null)
        {
            return null;
        }

        if (Refusal(certificate, authorities) is { } refusal)
        {
            problems.Add($"Cluster:Tls:CertificateFile '{certificateFile}' is not accepted by Cluster:Tls:CaFile '{caFile}': {refusal}; "
                + "every node checks its peers against that CA, so issue this node's certificate from it");
            return null;
        }

        return new SiloTls(certificateFile, keyFile, caFile, certificate, authorities);
    }

    /// <summary>
    /// Why a peer's certificate is refused, or null when it is a cluster member's: valid now, client and server usage
    /// (or none stated), and a chain that ends at one of <paramref name="authorities"/> (the system's roots are not
    /// consulted, and host names are not checked: silos are dialled by address, and the private CA issues nothing else).
    /// </summary>
    public static string? Refusal(X509Certificate2? certificate, X509Certificate2Collection authorities)
    {
        if (certificate is null)
        {
            return "no certificate presented";
        }

        var now = DateTime.Now;
        if (certificate.NotAfter < now)
        {
            return $"certificate {certificate.Subject} expired on {certificate.NotAfter.ToUniversalTime():u}";
        }

        if (certificate.NotBefore > now)
        {
            return $"certificate {certificate.Subject} is not valid before {certificate.NotBefore.ToUniversalTime():u}";
        }

        var usage = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (usage is not null && Usages.Any(wanted => !usage.EnhancedKeyUsages.Cast<Oid>().Any(oid => oid.Value == wanted)))
        {
            return $"certificate {certificate.Subject} lacks serverAuth or clientAuth in its extended key usage (silos both dial and are dialled)";
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (!chain.Build(certificate))
        {
            var status = string.Join(", ", chain.ChainStatus.Select(s => s.Status).Distinct());
            return $"certificate {certificate.Subject} (issuer {certificate.Issuer}) does not chain to the cluster CA ({status})";
        }

        var root = chain.ChainElements[^1].Certificate;
        return authorities.Cast<X509Certificate2>().Any(ca => ca.RawDataMemory.Span.SequenceEqual(root.RawDataMemory.Span))
            ? null
            : $"certificate {certificate.Subject} chains to {root.Subject}, not to the cluster CA";
    }

    /// <summary>The TLS layer's callback: the platform's verdict is replaced by <see cref="Refusal"/>, which trusts the CA file only.</summary>
    public bool Validate(X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors, Action<string, string> refused)
    {
        if (Refusal(certificate, Authorities) is not { } refusal)
        {
            return true;
        }

        refused(certificate?.Subject ?? "(none)", refusal);
        return false;
    }

    private static X509Certificate2Collection? LoadAuthorities(string caFile, List<string> problems)
    {
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(caFile);
        }
        catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException)
        {
            problems.Add($"Cluster:Tls:CaFile '{caFile}' does not load ({exception.Message}); it must hold the CA's certificate in PEM (-----BEGIN CERTIFICATE-----)");
            return null;
        }

        if (authorities.Count == 0)
        {
            problems.Add($"Cluster:Tls:CaFile '{caFile}' holds no PEM certificate; it must hold the CA's certificate (-----BEGIN CERTIFICATE-----), never its key");
            return null;
        }

        var expired = authorities.Cast<X509Certificate2>().FirstOrDefault(ca => ca.NotAfter < DateTime.Now);
        if (expired is not null)
        {
            problems.Add($"Cluster:Tls:CaFile '{caFile}': the CA {expired.Subject} expired on {expired.NotAfter.ToUniversalTime():u}; make a new CA and reissue every node's certificate");
            return null;
        }

        return authorities;
    }

    private static X509Certificate2? LoadCertificate(string certificateFile, string? keyFile, List<string> problems)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        }
        catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            // The message names the PEM problem or the key mismatch; it never holds key material.
            problems.Add($"Cluster:Tls:CertificateFile '{certificateFile}'{(keyFile is null ? " (no KeyFile)" : $" with Cluster:Tls:KeyFile '{keyFile}'")} does not load: "
                + $"{exception.Message}; the key must be the certificate's own (openssl x509 -noout -pubkey and openssl pkey -pubout must print the same)");
            return null;
        }

        if (!certificate.HasPrivateKey)
        {
            problems.Add($"Cluster:Tls:CertificateFile '{certificateFile}' has no private key: give Cluster:Tls:KeyFile");
            return null;
        }

        var now = DateTime.Now;
        if (certificate.NotAfter < now || certificate.NotBefore > now)
        {
            problems.Add($"Cluster:Tls:CertificateFile '{certificateFile}' is not valid now (valid {certificate.NotBefore.ToUniversalTime():u} to "
                + $"{certificate.NotAfter.ToUniversalTime():u}): {(certificate.NotAfter < now ? "it expired; renew it from the cluster CA" : "its start lies ahead; check this host's clock")}");
            return null;
        }

        // Linux's TLS stack needs the key in a form it can hand to OpenSSL for every handshake: a PKCS#12 round trip gives that.
        using (certificate)
        {
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        }
    }
}
