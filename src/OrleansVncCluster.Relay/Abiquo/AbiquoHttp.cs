using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;

namespace OrleansVncCluster.Relay.Abiquo;

/// <summary>The HTTP plumbing of <see cref="AbiquoClient"/>: connection handling and certificate checks.</summary>
public static partial class AbiquoHttp
{
    /// <summary>
    /// A handler that verifies the server certificate against the system's trust store (the default), against the CA
    /// certificates in <see cref="AbiquoOptions.CaFile"/>, or not at all when <see cref="AbiquoOptions.InsecureSkipTlsVerify"/>
    /// is set explicitly.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(AbiquoOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            // Re-resolve DNS now and then so a moved API endpoint is followed without a restart.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = options.Timeout,
            AutomaticDecompression = System.Net.DecompressionMethods.All,
            UseCookies = false,
            // A redirect is answered as an error that names its target: following it would send the next request
            // somewhere Abiquo:ApiUrl does not name (and .NET drops the credentials on the way anyway).
            AllowAutoRedirect = false,
        };

        if (options.InsecureSkipTlsVerify)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (!string.IsNullOrEmpty(options.CaFile))
        {
            var roots = LoadCertificates(options.CaFile);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, roots);
        }

        return handler;
    }

    /// <summary>Registers the typed <see cref="AbiquoClient"/> with the handler of <see cref="CreateHandler"/>.</summary>
    public static IHttpClientBuilder AddAbiquoClient(this IServiceCollection services) =>
        services.AddHttpClient<AbiquoClient>(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(provider =>
            {
                var options = provider.GetRequiredService<IOptions<AbiquoOptions>>().Value;
                if (options.InsecureSkipTlsVerify)
                {
                    LogTlsVerificationDisabled(provider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AbiquoClient).FullName!), options.ApiUrl);
                }

                return CreateHandler(options);
            })
            // One handler for the process: SocketsHttpHandler's PooledConnectionLifetime already follows DNS changes.
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            // The factory's default logging writes a line per page request; the client logs one line per walk instead.
            .RemoveAllLoggers();

    /// <summary>The certificates of a PEM bundle, or of a single DER file.</summary>
    public static X509Certificate2Collection LoadCertificates(string path)
    {
        var certificates = new X509Certificate2Collection();
        var text = File.ReadAllText(path);
        if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            certificates.ImportFromPem(text);
        }
        else
        {
            certificates.Add(X509CertificateLoader.LoadCertificateFromFile(path));
        }

        return certificates;
    }

    private static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        // A custom CA fixes who signed the certificate, not which host it names.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf);
    }

    [LoggerMessage(EventId = EventIds.AbiquoTlsVerificationDisabled, Level = LogLevel.Warning,
        Message = "Abiquo:InsecureSkipTlsVerify is set: the certificate of {ApiUrl} is not checked, so anyone on the path can read the Abiquo admin password")]
    private static partial void LogTlsVerificationDisabled(ILogger logger, string? apiUrl);
}
