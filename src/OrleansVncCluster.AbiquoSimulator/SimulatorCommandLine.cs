using System.Globalization;
using OrleansVncCluster.AbiquoSimulator.World;

namespace OrleansVncCluster.AbiquoSimulator;

/// <summary>Parses the simulator's command line. Passwords never come from it: they would show in <c>ps</c>.</summary>
public static class SimulatorCommandLine
{
    /// <summary>Environment variable holding the simulator's password when no file is given.</summary>
    public const string PasswordVariable = "ABIQUO_SIM_PASSWORD";

    public const string Usage = """
        usage: abiquo-simulator [options]
          --urls URL[;URL]          listen addresses (default http://127.0.0.1:8780; port 0 picks a free port)
          --seed N                  seed of the generated inventory (default 1; same seed, same inventory)
          --vms N                   VMs to generate, 0 to 1000000 (default 200)
          --enterprises N           enterprises to generate (default 10)
          --user NAME               cloud administrator account (default admin)
          --non-admin-user NAME     an account that is not a cloud administrator: 403 on /admin (default user)
          --password-file FILE      password of both accounts; else $ABIQUO_SIM_PASSWORD; else a random one,
                                    written to a mode 600 file whose path is printed (no default password)
          --api-version V           newest media type version served (default 3.10)
          --max-page-size N         cap every page at N items, even limit=0, and page the per-enterprise VM lists
          --public-url URL          base written into hrefs, as a proxy in front would (default: the request's)
          --vnc-target HOST:PORT[:VNCPASSWORD]
                                    add an ON VM whose console is this real VNC server (repeatable)
        The Abiquo API is under /api; the simulator's admin API (faults, adding and moving VMs, a new VNC port for
        every Nth deployed VM: POST /_sim/vms/renumber-consoles {"every": N}) under /_sim.
        """;

    /// <summary>Parses <paramref name="args"/>; returns null and a message when they are not usable.</summary>
    public static SimulatorSettings? Parse(IReadOnlyList<string> args, Func<string, string?> environment, out string? problem)
    {
        var world = new GenerationSettings();
        string? user = null, nonAdmin = null, passwordFile = null, apiVersion = null, publicUrl = null;
        var urls = new List<string>();
        var targets = new List<VncTarget>();
        var maxPageSize = 0;
        problem = null;

        for (var i = 0; i < args.Count; i++)
        {
            var (name, inline) = Split(args[i]);
            if (name is "-h" or "--help")
            {
                problem = Usage;
                return null;
            }

            if (name is "-p" or "--password")
            {
                problem = $"{name} is refused: a password on the command line is visible in ps. Use --password-file FILE or ${PasswordVariable}.";
                return null;
            }

            if (!name.StartsWith("--", StringComparison.Ordinal))
            {
                problem = $"unexpected argument '{args[i]}'\n{Usage}";
                return null;
            }

            var value = inline ?? (i + 1 < args.Count ? args[++i] : null);
            if (value is null)
            {
                problem = $"{name} needs a value";
                return null;
            }

            switch (name)
            {
                case "--urls": urls.AddRange(value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)); break;
                case "--seed": world = world with { Seed = Number(name, value, ref problem) }; break;
                case "--vms": world = world with { Vms = Number(name, value, ref problem) }; break;
                case "--enterprises": world = world with { Enterprises = Number(name, value, ref problem) }; break;
                case "--user": user = value; break;
                case "--non-admin-user": nonAdmin = value; break;
                case "--password-file": passwordFile = value; break;
                case "--api-version": apiVersion = value; break;
                case "--max-page-size": maxPageSize = Number(name, value, ref problem); break;
                case "--public-url": publicUrl = value; break;
                case "--vnc-target":
                    if (ParseTarget(value) is { } target)
                    {
                        targets.Add(target);
                    }
                    else
                    {
                        problem = $"--vnc-target '{value}' is not HOST:PORT[:VNCPASSWORD] (IPv6 as [::1]:5901)";
                    }

                    break;
                default:
                    problem = $"unknown option {name}\n{Usage}";
                    return null;
            }

            if (problem is not null)
            {
                return null;
            }
        }

        if (world.Problem() is { } worldProblem)
        {
            problem = worldProblem;
            return null;
        }

        string password;
        var generated = false;
        if (passwordFile is not null)
        {
            try
            {
                password = File.ReadAllText(passwordFile).TrimEnd('\r', '\n');
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                problem = $"cannot read --password-file {passwordFile}: {exception.Message}";
                return null;
            }
        }
        else
        {
            // Never Abiquo's well-known factory password: a simulator reachable on a network would be an open door.
            generated = environment(PasswordVariable) is not { Length: > 0 };
            password = generated ? Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12)).ToLowerInvariant() : environment(PasswordVariable)!;
        }

        if (password.Length == 0)
        {
            problem = $"the password file {passwordFile} is empty";
            return null;
        }

        if (apiVersion is not null && !Api.MediaTypes.IsSupported(apiVersion, apiVersion))
        {
            problem = $"--api-version '{apiVersion}' must be MAJOR.MINOR, 2.0 or later (e.g. 3.10)";
            return null;
        }

        var settings = new SimulatorSettings { Password = password, PasswordGenerated = generated, World = world, VncTargets = targets, MaxPageSize = maxPageSize, PublicUrl = publicUrl?.TrimEnd('/') };
        return settings with
        {
            User = user ?? settings.User,
            NonAdminUser = nonAdmin ?? settings.NonAdminUser,
            ApiVersion = apiVersion ?? settings.ApiVersion,
            Urls = urls.Count > 0 ? urls : settings.Urls,
        };
    }

    /// <summary>Parses <c>HOST:PORT[:VNCPASSWORD]</c>, with IPv6 hosts in brackets.</summary>
    public static VncTarget? ParseTarget(string text)
    {
        string host;
        string rest;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                return null;
            }

            host = text[1..close];
            rest = text[(close + 2)..];
        }
        else
        {
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return null;
            }

            host = text[..colon];
            rest = text[(colon + 1)..];
        }

        var parts = rest.Split(':', 2);
        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535 || host.Length == 0)
        {
            return null;
        }

        return new VncTarget(host, port, parts.Length > 1 && parts[1].Length > 0 ? parts[1] : null);
    }

    private static (string Name, string? Value) Split(string arg)
    {
        var equals = arg.IndexOf('=', StringComparison.Ordinal);
        return arg.StartsWith("--", StringComparison.Ordinal) && equals > 0 ? (arg[..equals], arg[(equals + 1)..]) : (arg, null);
    }

    private static int Number(string name, string value, ref string? problem)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        problem = $"{name} needs a non-negative integer (got '{value}')";
        return 0;
    }
}
