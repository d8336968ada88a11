using OrleansVncCluster.AbiquoSimulator.Faults;
using OrleansVncCluster.AbiquoSimulator.World;

namespace OrleansVncCluster.AbiquoSimulator.Admin;

/// <summary>A VM as the admin API shows it: where its console is, so a test or a demo can compute its token.</summary>
public sealed record AdminVm(int Id, string Name, string? Label, int EnterpriseId, string Enterprise, string State,
    string? Hypervisor, string? VdrpIP, int VdrpPort, bool HasPassword)
{
    public static AdminVm From(VmView view) => new(view.Vm.Id, view.Vm.Name, view.Vm.Label, view.Enterprise.Id, view.Enterprise.Name,
        view.Vm.State.ToWire(), view.Hypervisor?.Name, view.Vm.VdrpIP, view.Vm.VdrpPort, view.Vm.Password is not null);
}

/// <summary>The simulator's state as the admin API shows it.</summary>
public sealed record AdminState(WorldCounts World, int MaxPageSize, string? PublicUrl, long Requests, IReadOnlyList<FaultRule> Faults);

/// <summary>What <c>PUT /_sim/config</c> changes.</summary>
public sealed record AdminConfig(int? MaxPageSize, string? PublicUrl);

/// <summary>What <c>POST /_sim/vms/renumber-consoles</c> takes: every how many deployed VMs one gets a new VNC port.</summary>
public sealed record ConsoleRenumbering(int Every);

/// <summary>What <c>POST /_sim/vms/renumber-consoles</c> answers.</summary>
public sealed record RenumberedConsoles(int Moved);

/// <summary>What <c>POST /_sim/enterprises</c> takes.</summary>
public sealed record NewEnterprise(string? Name);

/// <summary>
/// The simulator's own control surface under <c>/_sim</c> (Basic auth with the administrator account): regenerate the
/// world, add, change, move and remove VMs and enterprises, inject faults, change paging. Not part of Abiquo's API.
/// </summary>
public static class AdminApi
{
    /// <summary>Maps the admin API.</summary>
    public static RouteGroupBuilder MapSimulatorAdmin(this IEndpointRouteBuilder endpoints, Simulator simulator)
    {
        var admin = endpoints.MapGroup("/_sim");
        admin.AddEndpointFilter(async (context, next) =>
        {
            if (!IsAdministrator(context.HttpContext.Request, simulator.Settings))
            {
                context.HttpContext.Response.Headers.WWWAuthenticate = "Basic realm=\"abiquo-simulator\"";
                return Results.Problem("the simulator's admin API needs the administrator's Basic credentials", statusCode: StatusCodes.Status401Unauthorized);
            }

            try
            {
                return await next(context);
            }
            catch (Exception exception) when (exception is SimulatorRequestException or ArgumentException)
            {
                return Results.Problem(exception.Message, statusCode: StatusCodes.Status400BadRequest);
            }
        });

        admin.MapGet("/state", () => State(simulator));
        admin.MapPost("/reset", (GenerationSettings settings) =>
        {
            if (settings.Problem() is { } problem)
            {
                return Results.Problem(problem, statusCode: StatusCodes.Status400BadRequest);
            }

            simulator.Reset(settings);
            return Results.Ok(State(simulator));
        });
        admin.MapPut("/config", (AdminConfig config) =>
        {
            if (config.MaxPageSize is { } size)
            {
                simulator.MaxPageSize = size;
            }

            if (config.PublicUrl is not null)
            {
                simulator.PublicUrl = config.PublicUrl;
            }

            return Results.Ok(State(simulator));
        });

        admin.MapGet("/vms", (int? enterpriseId, int? startwith, int? limit) =>
            simulator.World.Vms(enterpriseId, startwith ?? 0, limit is null or 0 ? null : limit) is { } page
                ? Results.Ok(page.Items.Select(AdminVm.From))
                : Results.NotFound());
        admin.MapGet("/vms/{id:int}", (int id) => simulator.World.Vm(id) is { } vm ? Results.Ok(AdminVm.From(vm)) : Results.NotFound());
        admin.MapPost("/vms", (NewVm request) =>
        {
            var vm = simulator.World.AddVm(request);
            return Results.Created($"/_sim/vms/{vm.Vm.Id}", AdminVm.From(vm));
        });
        admin.MapPatch("/vms/{id:int}", (int id, VmChange change) =>
            simulator.World.ChangeVm(id, change) is { } vm ? Results.Ok(AdminVm.From(vm)) : Results.NotFound());
        admin.MapPost("/vms/{id:int}/move", (int id, VmMove? move) =>
            simulator.World.MoveVm(id, move ?? new VmMove()) is { } vm ? Results.Ok(AdminVm.From(vm)) : Results.NotFound());
        admin.MapPost("/vms/renumber-consoles", (ConsoleRenumbering request) =>
            Results.Ok(new RenumberedConsoles(simulator.World.RenumberConsoles(request.Every))));
        admin.MapDelete("/vms/{id:int}", (int id) => simulator.World.RemoveVm(id) ? Results.NoContent() : Results.NotFound());

        admin.MapPost("/enterprises", (NewEnterprise request) =>
        {
            var enterprise = simulator.World.AddEnterprise(request.Name);
            return Results.Created($"/_sim/enterprises/{enterprise.Id}", enterprise);
        });
        admin.MapDelete("/enterprises/{id:int}", (int id) => simulator.World.RemoveEnterprise(id) ? Results.NoContent() : Results.NotFound());

        admin.MapGet("/faults", () => simulator.Faults.Rules());
        admin.MapPost("/faults", (FaultRule rule) => Results.Ok(simulator.Faults.Add(rule)));
        admin.MapDelete("/faults", () =>
        {
            simulator.Faults.Clear();
            return Results.NoContent();
        });
        return admin;
    }

    private static AdminState State(Simulator simulator) =>
        new(simulator.World.Counts(), simulator.MaxPageSize, simulator.PublicUrl, simulator.Requests, simulator.Faults.Rules());

    private static bool IsAdministrator(HttpRequest request, SimulatorSettings settings)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        try
        {
            var expected = System.Text.Encoding.UTF8.GetBytes($"{settings.User}:{settings.Password}");
            return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(header[6..].Trim()), expected);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
