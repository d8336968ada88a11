using Bogus;

namespace OrleansVncCluster.AbiquoSimulator.World;

/// <summary>The parameters of a generated world. Same values, same world.</summary>
public sealed record GenerationSettings
{
    /// <summary>Largest world the simulator generates: the 1,000,000-VM first sync of the bench's sync-1m workload.</summary>
    public const int MaxVms = 1_000_000;

    /// <summary>Upper bound on tenants; a real Abiquo rarely has more than a few hundred.</summary>
    public const int MaxEnterprises = 10_000;

    public int Seed { get; init; } = 1;
    public int Vms { get; init; } = 200;
    public int Enterprises { get; init; } = 10;

    /// <summary>A message that says what to fix, or null when the settings are usable.</summary>
    public string? Problem() =>
        Vms is < 0 or > MaxVms ? $"the VM count must be between 0 and {MaxVms} (got {Vms})"
        : Enterprises is < 1 or > MaxEnterprises ? $"the enterprise count must be between 1 and {MaxEnterprises} (got {Enterprises})"
        : null;
}

/// <summary>Everything a world holds, as generated.</summary>
public sealed record WorldData(
    GenerationSettings Settings,
    IReadOnlyList<SimEnterprise> Enterprises,
    IReadOnlyList<SimHypervisor> Hypervisors,
    IReadOnlyList<SimVm> Vms);

/// <summary>
/// Generates a plausible Abiquo inventory from a seed with Bogus: tenants with company names, hypervisors that share
/// their address among about 25 VMs each (VNC ports from 5900 up, as Abiquo allocates them), ON, OFF and undeployed VMs,
/// VNC passwords, and about 1 % of deployed VMs reusing another VM's IP:port (a port Abiquo handed out again while a
/// stopped VM still records it), which the client must cope with.
/// </summary>
public static class WorldGenerator
{
    /// <summary>First VNC port Abiquo hands out on a hypervisor.</summary>
    public const int FirstVncPort = 5900;

    private const int VmsPerHypervisor = 25;
    private const int HypervisorsPerRack = 16;
    private const double ReusedPortShare = 0.01;

    private static readonly string[] Images =
    [
        "ubuntu-24.04", "debian-12", "centos-7", "rocky-9", "windows-2022", "mysql:latest", "nginx", "postgres-16",
        "redis", "jenkins", "gitlab-runner", "haproxy", "kafka", "elastic", "wordpress", "build-agent",
    ];

    private static readonly string[] HypervisorKinds = ["kvm", "esxi", "xen", "hyperv", "docker"];
    private static readonly int[] CpuChoices = [1, 2, 4, 8];
    private static readonly int[] RamChoices = [512, 1024, 2048, 4096, 8192];
    private static readonly VmState[] States = [VmState.On, VmState.Off, VmState.NotAllocated];
    private static readonly float[] StateWeights = [0.65f, 0.20f, 0.15f];

    /// <summary>Generates the world described by <paramref name="settings"/>.</summary>
    public static WorldData Generate(GenerationSettings settings)
    {
        if (settings.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(settings));
        }

        var faker = new Faker("en") { Random = new Randomizer(settings.Seed) };
        var random = faker.Random;

        var enterprises = new List<SimEnterprise>(settings.Enterprises);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var id = 1; id <= settings.Enterprises; id++)
        {
            var name = faker.Company.CompanyName();
            enterprises.Add(new SimEnterprise(id, names.Add(name) ? name : $"{name} {id}"));
        }

        var hypervisorCount = Math.Max(1, settings.Vms / VmsPerHypervisor);
        var hypervisors = new List<SimHypervisor>(hypervisorCount);
        for (var index = 0; index < hypervisorCount; index++)
        {
            var rack = index / HypervisorsPerRack + 1;
            var kind = random.ArrayElement(HypervisorKinds);
            hypervisors.Add(new SimHypervisor(index + 1, $"{kind}-r{rack:D2}-{index % HypervisorsPerRack + 1:D2}", AddressOf(index), rack / 8 + 1, rack));
        }

        var nextPort = new int[hypervisorCount];
        Array.Fill(nextPort, FirstVncPort);
        var vms = new List<SimVm>(settings.Vms);
        for (var id = 1; id <= settings.Vms; id++)
        {
            var enterpriseId = random.Int(1, settings.Enterprises);
            var state = random.WeightedRandom(States, StateWeights);
            int? hypervisorId = null;
            string? ip = null;
            var port = 0;
            if (state.IsDeployed())
            {
                var h = random.Int(0, hypervisorCount - 1);
                hypervisorId = h + 1;
                ip = hypervisors[h].Ip;
                port = nextPort[h] > FirstVncPort && random.Double() < ReusedPortShare
                    ? random.Int(FirstVncPort, nextPort[h] - 1)
                    : nextPort[h]++;
            }

            vms.Add(new SimVm
            {
                Id = id,
                EnterpriseId = enterpriseId,
                Uuid = random.Uuid(),
                Label = random.Double() < 0.9 ? $"{random.ArrayElement(Images)}-{random.Int(1, 999)}" : null,
                State = state,
                HypervisorId = hypervisorId,
                VdrpIP = ip,
                VdrpPort = port,
                Password = random.Double() < 0.8 ? random.String2(8, "abcdefghijkmnpqrstuvwxyz23456789") : null,
                Cpu = random.ArrayElement(CpuChoices),
                Ram = random.ArrayElement(RamChoices),
                VirtualDatacenterId = enterpriseId * 10 + random.Int(0, 2),
                VirtualApplianceId = enterpriseId * 100 + random.Int(0, 9),
            });
        }

        return new WorldData(settings, enterprises, hypervisors, vms);
    }

    /// <summary>A hypervisor address in 10.60.0.0/14, unique per index.</summary>
    public static string AddressOf(int index) => $"10.{60 + index / 62_500}.{index / 250 % 250}.{index % 250 + 1}";
}
