using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using StackExchange.Redis;

namespace OrleansVncCluster.Relay.Cluster;

/// <summary>
/// How the node reaches Redis securely. The connection string (from Redis:ConnectionStringFile, the credentials
/// directory or the environment) may carry <c>password=</c>, <c>user=</c> and <c>ssl=true</c>; a private CA and a client
/// certificate come from files (Redis:CaFile, Redis:ClientCertificateFile, Redis:ClientKeyFile). Nothing here ever
/// renders the connection string: only endpoints and whether TLS and a password are in use.
/// </summary>
public sealed class RedisTransport
{
    /// <summary>PEM file of the CA that issued Redis' server certificate; implies TLS.</summary>
    public string? CaFile { get; init; }

    /// <summary>PEM client certificate, for a Redis with <c>tls-auth-clients yes</c> (its default).</summary>
    public string? ClientCertificateFile { get; init; }

    /// <summary>PEM key of <see cref="ClientCertificateFile"/>; may be omitted when that file holds the key.</summary>
    public string? ClientKeyFile { get; init; }

    /// <summary>Reads the "Redis" section's TLS files.</summary>
    public static RedisTransport From(IConfiguration configuration) => new()
    {
        CaFile = NullIfEmpty(configuration["Redis:CaFile"]),
        ClientCertificateFile = NullIfEmpty(configuration["Redis:ClientCertificateFile"]),
        ClientKeyFile = NullIfEmpty(configuration["Redis:ClientKeyFile"]),
    };

    /// <summary>What is wrong with the TLS files, each problem saying what to fix.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (CaFile is not null)
        {
            try
            {
                using var ca = X509CertificateLoader.LoadCertificateFromFile(CaFile);
            }
            catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException)
            {
                problems.Add($"Redis:CaFile '{CaFile}' is not a readable PEM or DER certificate ({exception.Message}); give the CA certificate that issued Redis' tls-cert-file");
            }
        }

        if (ClientKeyFile is not null && ClientCertificateFile is null)
        {
            problems.Add("Redis:ClientKeyFile is set without Redis:ClientCertificateFile; give both");
        }

        if (ClientCertificateFile is not null)
        {
            try
            {
                using var client = X509Certificate2.CreateFromPemFile(ClientCertificateFile, ClientKeyFile);
            }
            catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                problems.Add($"Redis:ClientCertificateFile '{ClientCertificateFile}' with its key does not load ({exception.Message}); give a PEM certificate and its PEM key");
            }
        }

        return problems;
    }

    /// <summary>Parses <paramref name="connectionString"/> and adds the TLS settings; a CA or client certificate turns TLS on.</summary>
    public ConfigurationOptions Apply(string connectionString)
    {
        var configuration = ConfigurationOptions.Parse(connectionString);
        if (CaFile is not null)
        {
            configuration.Ssl = true;
            configuration.TrustIssuer(X509CertificateLoader.LoadCertificateFromFile(CaFile));
        }

        if (ClientCertificateFile is not null)
        {
            configuration.Ssl = true;
            configuration.SetUserPemCertificate(ClientCertificateFile, ClientKeyFile);
        }

        return configuration;
    }

    /// <summary>
    /// Endpoints and security, for logs: never the password or the connection string. With <c>serviceName=</c> the
    /// endpoints are Sentinels, and StackExchange.Redis asks them for the primary and follows its failovers.
    /// </summary>
    public static string Describe(ConfigurationOptions configuration) =>
        string.Join(", ", configuration.EndPoints.Select(e => e.ToString()))
        + (string.IsNullOrEmpty(configuration.ServiceName) ? "" : $" (Sentinel service {configuration.ServiceName})")
        + (configuration.Ssl ? " over TLS" : " in plain text")
        + (string.IsNullOrEmpty(configuration.Password) ? ", no password" : ", with a password");

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
