using System.Text.Json.Serialization;

namespace OrleansVncCluster.AbiquoSimulator.Faults;

/// <summary>What goes wrong.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FaultKind>))]
public enum FaultKind
{
    /// <summary>An HTTP error: 500 with Abiquo's GEN-13 body, another status with a proxy's HTML page, or any status with <see cref="FaultRule.Code"/>.</summary>
    Error,

    /// <summary>The answer comes after <see cref="FaultRule.DelayMs"/> (combines with other faults).</summary>
    Slow,

    /// <summary>The JSON body stops half-way.</summary>
    Truncate,

    /// <summary>A well-formed collection with nothing in it.</summary>
    Empty,

    /// <summary>401 GEN-5 whatever the credentials.</summary>
    Unauthorized,

    /// <summary>200 with an HTML page instead of JSON (a captive portal, a maintenance page).</summary>
    Garbage,
}

/// <summary>A fault to inject into the Abiquo API.</summary>
public sealed record FaultRule
{
    public FaultKind Kind { get; init; }

    /// <summary>Status for <see cref="FaultKind.Error"/> (default 500).</summary>
    public int? Status { get; init; }

    /// <summary>For <see cref="FaultKind.Error"/>: answer with an Abiquo error collection carrying this code (e.g. EN-0).</summary>
    public string? Code { get; init; }

    /// <summary>Delay for <see cref="FaultKind.Slow"/> (default 2000 ms).</summary>
    public int? DelayMs { get; init; }

    /// <summary>Only requests whose path contains this text (e.g. <c>virtualmachines</c>); null: every API request.</summary>
    public string? Path { get; init; }

    /// <summary>How many requests it hits before it goes away; null: until the faults are cleared.</summary>
    public int? Count { get; init; }

    /// <summary>Assigned when added.</summary>
    public int Id { get; init; }
}

/// <summary>The faults in force. Rules apply in the order added; all matching Slow rules delay, the first other rule decides.</summary>
public sealed class FaultInjector
{
    private readonly Lock _gate = new();
    private readonly List<FaultRule> _rules = [];
    private int _nextId = 1;

    /// <summary>Adds a rule and returns it with its id.</summary>
    public FaultRule Add(FaultRule rule)
    {
        if (rule.Count is <= 0)
        {
            throw new ArgumentException("count must be positive, or absent for a fault that stays until cleared", nameof(rule));
        }

        if (rule.Kind == FaultKind.Error && rule.Status is { } status && status is < 400 or > 599)
        {
            throw new ArgumentException($"an error fault needs a status from 400 to 599 (got {status})", nameof(rule));
        }

        lock (_gate)
        {
            var added = rule with { Id = _nextId++ };
            _rules.Add(added);
            return added;
        }
    }

    /// <summary>Removes every rule.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _rules.Clear();
        }
    }

    /// <summary>The rules in force.</summary>
    public IReadOnlyList<FaultRule> Rules()
    {
        lock (_gate)
        {
            return [.. _rules];
        }
    }

    /// <summary>Consumes the rules that hit a request to <paramref name="path"/>: the total delay and the deciding fault, if any.</summary>
    public (TimeSpan Delay, FaultRule? Fault) Hit(string path)
    {
        lock (_gate)
        {
            var delay = TimeSpan.Zero;
            FaultRule? fault = null;
            for (var i = 0; i < _rules.Count; i++)
            {
                var rule = _rules[i];
                if ((rule.Path is not null && !path.Contains(rule.Path, StringComparison.OrdinalIgnoreCase))
                    || (rule.Kind != FaultKind.Slow && fault is not null))
                {
                    continue;
                }

                if (rule.Kind == FaultKind.Slow)
                {
                    delay += TimeSpan.FromMilliseconds(rule.DelayMs ?? 2000);
                }
                else
                {
                    fault = rule;
                }

                if (rule.Count is { } count)
                {
                    if (count == 1)
                    {
                        _rules.RemoveAt(i--);
                    }
                    else
                    {
                        _rules[i] = rule with { Count = count - 1 };
                    }
                }
            }

            return (delay, fault);
        }
    }
}
