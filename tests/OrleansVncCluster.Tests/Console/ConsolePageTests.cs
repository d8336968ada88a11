using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansVncCluster.Relay.ConsolePage;

namespace OrleansVncCluster.Tests.Console;

/// <summary>The console page's routes and headers, on a real Kestrel listener on loopback with a throw-away web root.</summary>
public sealed class ConsolePageTests : IDisposable
{
    private readonly string _contentRoot = Directory.CreateTempSubdirectory("console-page-").FullName;

    public ConsolePageTests()
    {
        Write("wwwroot/console/index.html", "<!DOCTYPE html><title>console</title>");
        Write("wwwroot/console/console.js", "export {};");
        Write("wwwroot/novnc/core/rfb.js", "export default class RFB {}");
    }

    public void Dispose() => Directory.Delete(_contentRoot, recursive: true);

    [Theory]
    [InlineData("/console")]
    [InlineData("/console/")]
    [InlineData("/Console")]
    public async Task ConsolePath_ServesThePage(string path)
    {
        await using var server = await StartAsync();

        using var response = await server.Client.GetAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>console</title>", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Page_RunsOnlyItsOwnScripts_AndConnectsOnlyToItsOwnOrigin()
    {
        await using var server = await StartAsync();

        using var response = await server.Client.GetAsync("/console", TestContext.Current.CancellationToken);

        var csp = Header(response, "Content-Security-Policy");
        var authority = server.Client.BaseAddress!.Authority;
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        Assert.Contains($"connect-src 'self' ws://{authority} wss://{authority};", csp, StringComparison.Ordinal);
        Assert.Contains("form-action 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Page_NeverLeaksItsTokenUrl_AndIsNotSniffed()
    {
        await using var server = await StartAsync();

        using var response = await server.Client.GetAsync("/console?token=abc", TestContext.Current.CancellationToken);

        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
    }

    [Fact]
    public async Task ByDefault_OnlyTheNodesOwnPagesMayFrameTheConsole()
    {
        await using var server = await StartAsync();

        using var response = await server.Client.GetAsync("/console", TestContext.Current.CancellationToken);

        Assert.Contains("frame-ancestors 'self';", Header(response, "Content-Security-Policy"), StringComparison.Ordinal);
        Assert.Equal("SAMEORIGIN", Header(response, "X-Frame-Options"));
    }

    [Fact]
    public async Task ConfiguredFrameAncestors_MayFrameTheConsole()
    {
        await using var server = await StartAsync(new()
        {
            ["Console:FrameAncestors:0"] = "https://abiquo.example.com/",
            ["Console:FrameAncestors:1"] = "https://*.example.org",
        });

        using var response = await server.Client.GetAsync("/console", TestContext.Current.CancellationToken);

        Assert.Contains("frame-ancestors 'self' https://abiquo.example.com https://*.example.org;", Header(response, "Content-Security-Policy"), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("X-Frame-Options"), "X-Frame-Options cannot name other sites and would forbid the configured ones");
    }

    [Fact]
    public async Task ConfiguredConnectSources_AreAllowedForWebSockets()
    {
        await using var server = await StartAsync(new() { ["Console:ConnectSources:0"] = "wss://console.example.com" });

        using var response = await server.Client.GetAsync("/console", TestContext.Current.CancellationToken);

        Assert.Contains("wss://console.example.com;", Header(response, "Content-Security-Policy"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoVncModules_AreServedAsJavaScript_WithTheSameHeaders()
    {
        await using var server = await StartAsync();

        using var response = await server.Client.GetAsync("/novnc/core/rfb.js", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("same-origin", Header(response, "Cross-Origin-Resource-Policy"));
    }

    [Fact]
    public async Task Files_AreRevalidated_AndAnUnchangedFileAnswers304()
    {
        await using var server = await StartAsync();
        using var first = await server.Client.GetAsync("/console/console.js", TestContext.Current.CancellationToken);
        Assert.Equal("no-cache", Header(first, "Cache-Control"));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/console/console.js");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var second = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [Fact]
    public async Task MissingFile_Is404_AndOtherMethodsAre405()
    {
        await using var server = await StartAsync();

        using var missing = await server.Client.GetAsync("/novnc/core/nothing.js", TestContext.Current.CancellationToken);
        using var posted = await server.Client.PostAsync("/console", new StringContent(""), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, posted.StatusCode);
    }

    [Fact]
    public async Task PathsOutsideTheConsole_AreLeftToTheRestOfThePipeline()
    {
        await using var server = await StartAsync();

        using var response = await server.Client.GetAsync("/consoles", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        Assert.False(response.Headers.Contains("Content-Security-Policy"));
    }

    [Fact]
    public async Task PageMissingFromTheWebRoot_SaysHowToInstallIt()
    {
        File.Delete(Path.Combine(_contentRoot, "wwwroot/console/index.html"));
        await using var server = await StartAsync();

        using var response = await server.Client.GetAsync("/console", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("console page is not installed", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FrameAncestorThatIsNotAnOrigin_StopsTheNodeAtStartWithWhatToFix()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(
            () => StartAsync(new() { ["Console:FrameAncestors:0"] = "abiquo.example.com" }));

        Assert.Contains("Console:FrameAncestors entry 'abiquo.example.com' is not an origin", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("evil.example.com\"; script-src *")]
    [InlineData("a b")]
    public void HostHeaderWithUnexpectedCharacters_IsNotEchoedIntoThePolicy(string host)
    {
        var headers = new ConsoleHeaders(new ConsoleOptions());

        var csp = headers.ContentSecurityPolicy(new HostString(host));

        Assert.Contains("connect-src 'self';", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("evil", csp, StringComparison.Ordinal);
    }

    private void Write(string relativePath, string content)
    {
        var path = Path.Combine(_contentRoot, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : throw new Xunit.Sdk.XunitException($"response to {response.RequestMessage?.RequestUri} has no {name} header");

    private async Task<RunningServer> StartAsync(Dictionary<string, string?>? configuration = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = _contentRoot,
            EnvironmentName = "Production",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(configuration ?? []);
        builder.Services.AddConsolePage();
        var app = builder.Build();
        app.UseConsolePage();
        app.Run(context =>
        {
            context.Response.StatusCode = StatusCodes.Status410Gone;
            return Task.CompletedTask;
        });
        try
        {
            await app.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new RunningServer(app, new HttpClient { BaseAddress = new Uri(address) });
    }

    private sealed record RunningServer(WebApplication App, HttpClient Client) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }
}
