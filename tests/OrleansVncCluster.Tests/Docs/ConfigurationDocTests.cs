using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using OrleansVncCluster.Relay.Sessions;

namespace OrleansVncCluster.Tests.Docs;

/// <summary>
/// docs/CONFIGURATION.md is the one list of settings an operator reads: every bindable property of an options class
/// (a public type named *Options with a Section or SectionName constant) and every key the code reads by name must be
/// in it, written as `Section:Key`.
/// </summary>
public sealed partial class ConfigurationDocTests
{
    private static readonly string RepoRoot = FindRepoRoot();

    /// <summary>Literals that look like keys but name no setting: secret names the command line is checked for.</summary>
    private static readonly HashSet<string> NotSettings = new(StringComparer.Ordinal) { "Tickets:PreviousSecret" };

    private static readonly string Document = File.ReadAllText(Path.Combine(RepoRoot, "docs", "CONFIGURATION.md"));

    [Fact]
    public void EverySettingOfTheOptionsClasses_IsInConfigurationMd()
    {
        var settings = OptionsSettings().ToList();

        var missing = settings.Where(key => !Document.Contains($"`{key}`", StringComparison.Ordinal)).ToList();

        Assert.True(settings.Count >= 60, $"only {settings.Count} settings found by reflection: did the options classes move out of the relay assembly?");
        Assert.True(missing.Count == 0, "docs/CONFIGURATION.md lacks these settings (add a row `Section:Key` | default | meaning):\n  " + string.Join("\n  ", missing));
    }

    [Fact]
    public void EveryKeyTheCodeReadsByName_IsInConfigurationMd()
    {
        var sources = Directory.EnumerateFiles(Path.Combine(RepoRoot, "src", "OrleansVncCluster.Relay"), "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        var keys = sources.SelectMany(path => ConfigurationKeyLiteral().Matches(File.ReadAllText(path)).Select(match => match.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

        var missing = keys.Where(key => !NotSettings.Contains(key) && !Document.Contains($"`{key}`", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

        Assert.Contains("Orleans:Endpoints:AdvertisedIPAddress", keys);
        Assert.True(missing.Count == 0, "docs/CONFIGURATION.md lacks these keys read in src/ (add a row `Section:Key` | default | meaning):\n  " + string.Join("\n  ", missing));
    }

    [Fact]
    public void EveryKeyOfTheEnvironmentExample_IsADocumentedSetting()
    {
        // A misspelt key there (it once said Abiquo__Url) silently turns a feature off on every host installed from it.
        var example = File.ReadAllLines(Path.Combine(RepoRoot, "deploy", "env", "vnc-relay.env.example"));
        var keys = example.Select(line => EnvironmentKey().Match(line)).Where(match => match.Success)
            .Select(match => IndexSuffix().Replace(match.Groups[1].Value, "").Replace("__", ":", StringComparison.Ordinal)).ToList();

        var unknown = keys.Where(key => !Document.Contains($"`{key}`", StringComparison.Ordinal)).ToList();

        Assert.Contains("Abiquo:ApiUrl", keys);
        Assert.True(unknown.Count == 0, "deploy/env/vnc-relay.env.example sets keys docs/CONFIGURATION.md does not know:\n  " + string.Join("\n  ", unknown));
    }

    [Fact]
    public void ProductionExamples_TurnPlainTokensOff_AndWireTheTicketSecret()
    {
        // Issue 12, item 3: md5 tokens are guessable, so what operators copy runs tickets only, and names the secret the
        // node then needs (it refuses to start with plain tokens off and no secret).
        var env = File.ReadAllLines(Path.Combine(RepoRoot, "deploy", "env", "vnc-relay.env.example"));
        var relay = File.ReadAllText(Path.Combine(RepoRoot, "k8s", "relay.yaml"));
        var secrets = File.ReadAllText(Path.Combine(RepoRoot, "k8s", "secrets.example.yaml"));
        var install = File.ReadAllText(Path.Combine(RepoRoot, "deploy", "install.sh"));
        var postinst = File.ReadAllText(Path.Combine(RepoRoot, "deploy", "debian", "postinst"));

        Assert.Contains("Tokens__AcceptPlainTokens=false", env);
        Assert.Contains("Tickets__SecretFile=/etc/vnc-relay/ticket-secret", env);
        Assert.Matches(@"- name: Tokens__AcceptPlainTokens\s+value: ""false""", relay);
        Assert.Matches(@"- name: Tickets__SecretFile\s+value: /run/secrets/vnc-relay/ticket-secret", relay);
        Assert.Matches(@"\n  ticket-secret: REPLACE-ME", secrets);
        Assert.Contains("/etc/vnc-relay/ticket-secret", install, StringComparison.Ordinal);
        Assert.Contains("/etc/vnc-relay/ticket-secret", postinst, StringComparison.Ordinal);
    }

    [Fact]
    public void ProductionExamples_RehearseBeforeReady_ForATimeTheNodeAccepts()
    {
        // The cold node (issue 17): what operators install rehearses before ready; the code's default does not, so
        // tests and development nodes start at once. The bench's cold node reads the env example (tests/Shared/ShippedEnvironment).
        var env = File.ReadAllLines(Path.Combine(RepoRoot, "deploy", "env", "vnc-relay.env.example"));
        var relay = File.ReadAllText(Path.Combine(RepoRoot, "k8s", "relay.yaml"));

        var line = Assert.Single(env, line => line.StartsWith("Relay__StartupRehearsal=", StringComparison.Ordinal));
        var value = line["Relay__StartupRehearsal=".Length..];
        Assert.Matches($@"- name: Relay__StartupRehearsal\s+value: ""{Regex.Escape(value)}""", relay);
        var rehearsal = TimeSpan.Parse(value, CultureInfo.InvariantCulture);
        Assert.True(rehearsal > TimeSpan.Zero, $"the shipped rehearsal is on ({value})");
        Assert.True(new RelayOptionsValidator().Validate(null, new RelayOptions { StartupRehearsal = rehearsal }).Succeeded);
        Assert.Equal(TimeSpan.Zero, new RelayOptions().StartupRehearsal);
    }

    [Theory]
    [InlineData("-00:00:01")]
    [InlineData("00:05:01")]
    public void ARehearsalOutsideNoneToFiveMinutes_IsRefusedAtStart_NamingTheSetting(string value)
    {
        var result = new RelayOptionsValidator().Validate(null, new RelayOptions { StartupRehearsal = TimeSpan.Parse(value, CultureInfo.InvariantCulture) });

        Assert.True(result.Failed);
        Assert.Contains("Relay:StartupRehearsal", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadmeLinksTheConfigurationReference()
    {
        var readme = File.ReadAllText(Path.Combine(RepoRoot, "README.md"));

        Assert.Contains("docs/CONFIGURATION.md", readme, StringComparison.Ordinal);
    }

    /// <summary>`Section:Property` for each settable public property of each options class.</summary>
    private static IEnumerable<string> OptionsSettings()
    {
        var types = typeof(RelayOptions).Assembly.GetTypes()
            .Where(type => type.IsPublic && type.IsClass && type.Name.EndsWith("Options", StringComparison.Ordinal));
        foreach (var type in types)
        {
            var sectionField = type.GetField("Section", BindingFlags.Public | BindingFlags.Static) ?? type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static);
            if (sectionField?.GetRawConstantValue() is not string section)
            {
                continue;
            }

            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
            {
                yield return $"{section}:{property.Name}";
            }
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OrleansVncCluster.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("OrleansVncCluster.sln not found above the test binaries");
    }

    /// <summary>KEY= or #KEY= at the start of an environment file line.</summary>
    [GeneratedRegex(@"^#?([A-Z][A-Za-z]+(?:__[A-Za-z0-9]+)+)=")]
    private static partial Regex EnvironmentKey();

    [GeneratedRegex(@"(__[0-9]+)+$")]
    private static partial Regex IndexSuffix();

    /// <summary>A string literal that is exactly a configuration key of a known top-level section.</summary>
    [GeneratedRegex("\"((?:Relay|Tokens|Abiquo|Sync|Tickets|Limits|Console|Admin|Redis|Orleans|Logging|Kestrel):[A-Za-z][A-Za-z:]*[A-Za-z])\"")]
    private static partial Regex ConfigurationKeyLiteral();
}
