using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Relay.Hosting;

/// <summary>Kestrel's listeners: the public one (with a reloading TLS certificate when configured) and the admin one.</summary>
public static class RelayListeners
{
    /// <summary>
    /// Configures Kestrel from the validated <see cref="RelayOptions"/>: Kestrel reads its options when the server starts,
    /// after start-up validation, so an invalid listener is reported as a setting to fix rather than a bind error.
    /// </summary>
    public static WebApplicationBuilder AddRelayListeners(this WebApplicationBuilder builder, ILogger transportLogger)
    {
        var caps = ConnectionCaps.For(builder.Configuration, transportLogger);
        builder.Services.PostConfigure<Admission.AdmissionOptions>(admission => ConnectionCaps.DefaultMaxSessions(admission, builder.Configuration, caps, transportLogger));
        builder.Services.TryAddSingleton(sp =>
        {
            var relay = sp.GetRequiredService<IOptions<RelayOptions>>().Value;
            var reloader = new CertificateReloader(relay.CertificateFile!, relay.KeyFile, relay.CertificateCheckInterval, transportLogger);
            // Read at scrape time, so a reloaded certificate shows at once; the "certificate expiring" alert watches it.
            sp.GetRequiredService<RelayMetrics>().Meter.CreateObservableGauge("vnc_relay_certificate_expiry_timestamp_seconds",
                () => new DateTimeOffset(reloader.Current.NotAfter.ToUniversalTime()).ToUnixTimeSeconds(),
                description: "When the certificate the relay listener serves expires (Unix time); absent without TLS.");
            return reloader;
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var relay = kestrel.ApplicationServices.GetRequiredService<IOptions<RelayOptions>>().Value;
            var certificate = relay.CertificateFile is { Length: > 0 } ? kestrel.ApplicationServices.GetRequiredService<CertificateReloader>() : null;
            kestrel.AddServerHeader = false;
            kestrel.Limits.RequestHeadersTimeout = relay.HandshakeTimeout;
            ConnectionCaps.Apply(kestrel, caps);
            ListenAddress.TryParse(relay.Listen, out var publicEndpoint, out _);
            kestrel.Listen(publicEndpoint, listen =>
            {
                if (certificate is not null)
                {
                    // Asked per handshake, so a reloaded certificate serves new connections only.
                    listen.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificateSelector = (_, _) => certificate.Current });
                }

                if (relay.UpgradeHandoff)
                {
                    // After TLS, so that a handed-off session reads and writes the decrypted connection; without TLS the
                    // connection is the socket, which a session may write to itself.
                    listen.Use(UpgradeHandoff.Listener(kestrel.Limits.MaxConcurrentUpgradedConnections, relay.DirectSends && certificate is null));
                }
            });
            if (!string.IsNullOrWhiteSpace(relay.AdminListen) && ListenAddress.TryParse(relay.AdminListen, out var admin, out _))
            {
                kestrel.Listen(admin);
            }
        });
        return builder;
    }
}
