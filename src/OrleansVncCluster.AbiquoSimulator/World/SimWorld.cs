namespace OrleansVncCluster.AbiquoSimulator.World;

/// <summary>A VM with the names the API shows next to it.</summary>
public sealed record VmView(SimVm Vm, SimEnterprise Enterprise, SimHypervisor? Hypervisor);

/// <summary>One page of a list, and the size of the whole list.</summary>
public sealed record Page<T>(int Total, IReadOnlyList<T> Items)
{
    /// <summary>The world's <see cref="SimWorld.Mutations"/> when the page was copied out (VM pages only).</summary>
    public int Revision { get; init; }
}

/// <summary>What the admin API asks for when it adds a VM; unset fields are generated.</summary>
public sealed record NewVm
{
    public int? EnterpriseId { get; init; }
    public string? Label { get; init; }
    public string? State { get; init; }
    public string? VdrpIP { get; init; }
    public int? VdrpPort { get; init; }
    public string? Password { get; init; }
    public string? Hypervisor { get; init; }
}

/// <summary>Where a VM goes: a console address, a hypervisor, or another tenant; nothing set = another hypervisor.</summary>
public sealed record VmMove
{
    public string? VdrpIP { get; init; }
    public int? VdrpPort { get; init; }
    public string? Hypervisor { get; init; }
    public int? EnterpriseId { get; init; }
}

/// <summary>Changes to a VM that keep it where it is.</summary>
public sealed record VmChange
{
    public string? Label { get; init; }
    public string? State { get; init; }
    public string? Password { get; init; }
}

/// <summary>Counts for the admin status.</summary>
public sealed record WorldCounts(int Seed, int Enterprises, int Hypervisors, int Vms, int Deployed, IReadOnlyDictionary<string, int> ByState);

/// <summary>A request the simulator's admin API cannot carry out, with a message that says why.</summary>
public sealed class SimulatorRequestException(string message) : Exception(message);

/// <summary>
/// The simulator's inventory: enterprises, hypervisors and VMs, changed by the admin API while the Abiquo API reads it.
/// One lock guards everything; readers copy out the page they serve, so a request never sees half a change.
/// </summary>
public sealed class SimWorld
{
    private readonly Lock _gate = new();
    private GenerationSettings _settings = new();
    private SortedList<int, SimEnterprise> _enterprises = [];
    private Dictionary<int, SimHypervisor> _hypervisors = [];
    private Dictionary<int, int> _nextPort = [];
    private SortedList<int, SimVm> _vms = [];
    private Dictionary<int, SortedList<int, SimVm>> _vmsByEnterprise = [];
    private int _nextVmId = 1;
    private int _nextEnterpriseId = 1;
    private int _nextHypervisorId = 1;
    private int _mutations;

    /// <summary>Creates a world from <paramref name="data"/>.</summary>
    public SimWorld(WorldData data) => Load(data);

    /// <summary>Counts changes, so a test can tell that something happened, and a written VM list whether it is still true
    /// (<see cref="Api.VmPageCache"/>): every change goes through it.</summary>
    public int Mutations => Volatile.Read(ref _mutations);

    /// <summary>Replaces everything with <paramref name="data"/>.</summary>
    public void Load(WorldData data)
    {
        var enterprises = new SortedList<int, SimEnterprise>(data.Enterprises.Count);
        var byEnterprise = new Dictionary<int, SortedList<int, SimVm>>(data.Enterprises.Count);
        foreach (var enterprise in data.Enterprises)
        {
            enterprises.Add(enterprise.Id, enterprise);
            byEnterprise[enterprise.Id] = [];
        }

        var hypervisors = data.Hypervisors.ToDictionary(h => h.Id);
        var nextPort = new Dictionary<int, int>(hypervisors.Count);
        var vms = new SortedList<int, SimVm>(data.Vms.Count);
        foreach (var vm in data.Vms)
        {
            vms.Add(vm.Id, vm);
            byEnterprise[vm.EnterpriseId].Add(vm.Id, vm);
            if (vm.HypervisorId is { } h)
            {
                nextPort[h] = Math.Max(nextPort.GetValueOrDefault(h, WorldGenerator.FirstVncPort), vm.VdrpPort + 1);
            }
        }

        lock (_gate)
        {
            _settings = data.Settings;
            _enterprises = enterprises;
            _hypervisors = hypervisors;
            _nextPort = nextPort;
            _vms = vms;
            _vmsByEnterprise = byEnterprise;
            _nextVmId = vms.Count == 0 ? 1 : vms.Keys[^1] + 1;
            _nextEnterpriseId = enterprises.Count == 0 ? 1 : enterprises.Keys[^1] + 1;
            _nextHypervisorId = hypervisors.Count == 0 ? 1 : hypervisors.Keys.Max() + 1;
            _mutations++;
        }
    }

    /// <summary>Counts by kind and state.</summary>
    public WorldCounts Counts()
    {
        lock (_gate)
        {
            var byState = _vms.Values.GroupBy(vm => vm.State.ToWire()).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            return new WorldCounts(_settings.Seed, _enterprises.Count, _hypervisors.Count, _vms.Count,
                _vms.Values.Count(vm => vm.VdrpPort > 0), byState);
        }
    }

    /// <summary>A page of enterprises in id order; <paramref name="count"/> null = all from <paramref name="start"/>.</summary>
    public Page<SimEnterprise> Enterprises(int start, int? count)
    {
        lock (_gate)
        {
            return new Page<SimEnterprise>(_enterprises.Count, Slice(_enterprises.Values, start, count));
        }
    }

    /// <summary>One enterprise, or null.</summary>
    public SimEnterprise? Enterprise(int id)
    {
        lock (_gate)
        {
            return _enterprises.GetValueOrDefault(id);
        }
    }

    /// <summary>A page of one enterprise's VMs (null when the enterprise does not exist), or of all VMs.</summary>
    public Page<VmView>? Vms(int? enterpriseId, int start, int? count)
    {
        lock (_gate)
        {
            SortedList<int, SimVm> list;
            if (enterpriseId is { } id)
            {
                if (!_vmsByEnterprise.TryGetValue(id, out var found))
                {
                    return null;
                }

                list = found;
            }
            else
            {
                list = _vms;
            }

            var items = Slice(list.Values, start, count).Select(View).ToArray();
            return new Page<VmView>(list.Count, items) { Revision = _mutations };
        }
    }

    /// <summary>One VM with its names, or null.</summary>
    public VmView? Vm(int id)
    {
        lock (_gate)
        {
            return _vms.TryGetValue(id, out var vm) ? View(vm) : null;
        }
    }

    /// <summary>Adds a tenant.</summary>
    public SimEnterprise AddEnterprise(string? name)
    {
        lock (_gate)
        {
            var enterprise = new SimEnterprise(_nextEnterpriseId++, string.IsNullOrWhiteSpace(name) ? $"Enterprise {_nextEnterpriseId - 1}" : name);
            _enterprises.Add(enterprise.Id, enterprise);
            _vmsByEnterprise[enterprise.Id] = [];
            _mutations++;
            return enterprise;
        }
    }

    /// <summary>Removes a tenant and its VMs; false when there is no such tenant.</summary>
    public bool RemoveEnterprise(int id)
    {
        lock (_gate)
        {
            if (!_enterprises.Remove(id))
            {
                return false;
            }

            foreach (var vmId in _vmsByEnterprise[id].Keys)
            {
                _vms.Remove(vmId);
            }

            _vmsByEnterprise.Remove(id);
            _mutations++;
            return true;
        }
    }

    /// <summary>Adds a VM; what the request leaves out is chosen like the generator would (deployed and ON by default).</summary>
    public VmView AddVm(NewVm request)
    {
        lock (_gate)
        {
            var enterpriseId = request.EnterpriseId ?? (_enterprises.Count > 0 ? _enterprises.Keys[0] : throw new SimulatorRequestException("there is no enterprise to add the VM to: add one first"));
            if (!_enterprises.ContainsKey(enterpriseId))
            {
                throw new SimulatorRequestException($"enterprise {enterpriseId} does not exist");
            }

            var state = ParseState(request.State, VmState.On);
            var vm = new SimVm
            {
                Id = _nextVmId,
                EnterpriseId = enterpriseId,
                Uuid = Guid.NewGuid(),
                Label = request.Label,
                Password = request.Password,
                VirtualDatacenterId = enterpriseId * 10,
                VirtualApplianceId = enterpriseId * 100,
            };
            vm = state.IsDeployed()
                ? Place(vm, request.VdrpIP, request.VdrpPort, request.Hypervisor) with { State = state }
                : vm with { State = state };
            _nextVmId++;
            Store(vm);
            return View(vm);
        }
    }

    /// <summary>Deletes a VM; false when there is no such VM.</summary>
    public bool RemoveVm(int id)
    {
        lock (_gate)
        {
            if (!_vms.Remove(id, out var vm))
            {
                return false;
            }

            _vmsByEnterprise[vm.EnterpriseId].Remove(id);
            _mutations++;
            return true;
        }
    }

    /// <summary>Moves a VM to another console address, hypervisor or tenant; null when there is no such VM.</summary>
    public VmView? MoveVm(int id, VmMove move)
    {
        lock (_gate)
        {
            if (!_vms.TryGetValue(id, out var vm))
            {
                return null;
            }

            if (move.EnterpriseId is { } enterpriseId)
            {
                if (!_enterprises.ContainsKey(enterpriseId))
                {
                    throw new SimulatorRequestException($"enterprise {enterpriseId} does not exist");
                }

                _vmsByEnterprise[vm.EnterpriseId].Remove(id);
                vm = vm with { EnterpriseId = enterpriseId };
            }

            var relocate = move.VdrpIP is not null || move.VdrpPort is not null || move.Hypervisor is not null || move.EnterpriseId is null;
            if (relocate)
            {
                if (!vm.State.IsDeployed())
                {
                    vm = vm with { State = VmState.On };
                }

                vm = Place(vm, move.VdrpIP, move.VdrpPort, move.Hypervisor, avoid: vm.HypervisorId);
            }

            Store(vm);
            return View(vm);
        }
    }

    /// <summary>
    /// Gives every <paramref name="every"/>-th deployed VM (in id order) the next free VNC port of its own hypervisor, in
    /// one step: how the bench changes 1 % of a 1,000,000-VM inventory (every = 100) for a re-sync, where as many
    /// single moves would each scan every hypervisor. Returns how many VMs moved.
    /// </summary>
    public int RenumberConsoles(int every)
    {
        if (every < 1)
        {
            throw new SimulatorRequestException($"every must be 1 or more (got {every})");
        }

        lock (_gate)
        {
            var moved = new List<SimVm>();
            var deployed = 0;
            foreach (var vm in _vms.Values)
            {
                if (vm.VdrpPort > 0 && vm.HypervisorId is { } hypervisor && ++deployed % every == 0)
                {
                    var port = _nextPort.GetValueOrDefault(hypervisor, WorldGenerator.FirstVncPort);
                    _nextPort[hypervisor] = port + 1;
                    moved.Add(vm with { VdrpPort = port });
                }
            }

            // Stored after the walk: a SortedList's values cannot change while it is enumerated.
            foreach (var vm in moved)
            {
                Store(vm);
            }

            return moved.Count;
        }
    }

    /// <summary>Changes a VM's label, state or password; undeploying clears its console address, deploying gives it one.</summary>
    public VmView? ChangeVm(int id, VmChange change)
    {
        lock (_gate)
        {
            if (!_vms.TryGetValue(id, out var vm))
            {
                return null;
            }

            vm = vm with { Label = change.Label ?? vm.Label, Password = change.Password ?? vm.Password };
            if (change.State is not null)
            {
                var state = ParseState(change.State, vm.State);
                if (!state.IsDeployed())
                {
                    vm = vm with { State = state, HypervisorId = null, VdrpIP = null, VdrpPort = 0 };
                }
                else
                {
                    vm = (vm.State.IsDeployed() ? vm : Place(vm, null, null, null)) with { State = state };
                }
            }

            Store(vm);
            return View(vm);
        }
    }

    private void Store(SimVm vm)
    {
        _vms[vm.Id] = vm;
        _vmsByEnterprise[vm.EnterpriseId][vm.Id] = vm;
        _mutations++;
    }

    /// <summary>Gives a VM a console address: the one asked for, or the next free port of a hypervisor.</summary>
    private SimVm Place(SimVm vm, string? ip, int? port, string? hypervisorName, int? avoid = null)
    {
        if (port is < 1 or > 65535)
        {
            throw new SimulatorRequestException($"vdrpPort must be between 1 and 65535 (got {port})");
        }

        SimHypervisor hypervisor;
        if (ip is not null)
        {
            hypervisor = _hypervisors.Values.FirstOrDefault(h => h.Ip == ip && (hypervisorName is null || h.Name == hypervisorName))
                ?? NewHypervisor(hypervisorName ?? $"vnc-{ip}", ip, pinned: true);
        }
        else if (hypervisorName is not null)
        {
            hypervisor = _hypervisors.Values.FirstOrDefault(h => h.Name == hypervisorName)
                ?? throw new SimulatorRequestException($"hypervisor '{hypervisorName}' does not exist: give vdrpIP to create it");
        }
        else
        {
            hypervisor = PickHypervisor(vm.Id, avoid);
        }

        var next = _nextPort.GetValueOrDefault(hypervisor.Id, WorldGenerator.FirstVncPort);
        var chosen = port ?? next;
        _nextPort[hypervisor.Id] = Math.Max(next, chosen + 1);
        return vm with { HypervisorId = hypervisor.Id, VdrpIP = hypervisor.Ip, VdrpPort = chosen };
    }

    private SimHypervisor PickHypervisor(int salt, int? avoid)
    {
        var candidates = _hypervisors.Values.Where(h => h.Id != avoid && !h.Pinned).OrderBy(h => h.Id).ToList();
        if (candidates.Count == 0)
        {
            return NewHypervisor($"kvm-extra-{_nextHypervisorId}", WorldGenerator.AddressOf(_nextHypervisorId - 1), pinned: false);
        }

        return candidates[(salt * 7919 + _mutations) % candidates.Count];
    }

    private SimHypervisor NewHypervisor(string name, string ip, bool pinned)
    {
        var hypervisor = new SimHypervisor(_nextHypervisorId++, name, ip, 1, 1, pinned);
        _hypervisors.Add(hypervisor.Id, hypervisor);
        return hypervisor;
    }

    private VmView View(SimVm vm) =>
        new(vm, _enterprises[vm.EnterpriseId], vm.HypervisorId is { } h ? _hypervisors.GetValueOrDefault(h) : null);

    private static VmState ParseState(string? text, VmState fallback)
    {
        if (text is null)
        {
            return fallback;
        }

        return VmStates.TryParse(text, out var state)
            ? state
            : throw new SimulatorRequestException($"unknown state '{text}': use NOT_ALLOCATED, ALLOCATED, CONFIGURED, ON, PAUSED, OFF, LOCKED or UNKNOWN");
    }

    private static IReadOnlyList<T> Slice<T>(IList<T> values, int start, int? count)
    {
        var from = Math.Clamp(start, 0, values.Count);
        var take = Math.Min(count ?? int.MaxValue, values.Count - from);
        var page = new T[take];
        for (var i = 0; i < take; i++)
        {
            page[i] = values[from + i];
        }

        return page;
    }
}
