using System.Reflection;
using System.Reflection.Emit;

namespace OrleansVncCluster.Tests.Architecture;

/// <summary>
/// Finds which folders of an assembly use which others, from what the compiled code references: base types, member
/// signatures and every type, method and field a method body touches (read from its IL). Usings and doc comments do not
/// count; a fully qualified name in a method body does. Compiler-made types (async state machines, lambdas' closures)
/// count for the type that declares them; types outside <c>root</c> (generated serializers, regexes) are left out.
/// </summary>
internal static class DependencyScanner
{
    private const BindingFlags Declared = BindingFlags.DeclaredOnly | BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(field => (OpCode)field.GetValue(null)!)
        .ToDictionary(code => code.Value);

    /// <summary>Every (from folder, to folder, evidence) of <paramref name="assembly"/>, for namespaces under <paramref name="root"/>.</summary>
    public static IReadOnlyList<FolderDependency> Scan(Assembly assembly, string root)
    {
        var found = new Dictionary<(string From, string To), string>();
        foreach (var type in assembly.GetTypes())
        {
            var from = FolderOf(type, root);
            if (from is null)
            {
                continue;
            }

            foreach (var (referenced, where) in References(type))
            {
                foreach (var used in Flatten(referenced))
                {
                    if (FolderOf(used, root) is { } to && to != from)
                    {
                        found.TryAdd((from, to), $"{Outermost(type).FullName}.{where} uses {Outermost(used).FullName}");
                    }
                }
            }
        }

        return [.. found.Select(pair => new FolderDependency(pair.Key.From, pair.Key.To, pair.Value))];
    }

    /// <summary>The folder of a type: the namespace segment after <paramref name="root"/>, "" for the root itself.</summary>
    public static string? FolderOf(Type type, string root)
    {
        var ns = Outermost(type).Namespace ?? "";
        if (ns == root)
        {
            return "";
        }

        if (!ns.StartsWith(root + ".", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = ns[(root.Length + 1)..];
        var dot = rest.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? rest : rest[..dot];
    }

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer && !type.IsGenericParameter)
        {
            type = outer;
        }

        return type;
    }

    private static IEnumerable<Type> Flatten(Type type)
    {
        if (type.IsGenericParameter)
        {
            yield break;
        }

        if (type.HasElementType)
        {
            foreach (var inner in Flatten(type.GetElementType()!))
            {
                yield return inner;
            }

            yield break;
        }

        yield return type;
        if (type.IsGenericType)
        {
            foreach (var argument in type.GetGenericArguments().SelectMany(Flatten))
            {
                yield return argument;
            }
        }
    }

    private static IEnumerable<(Type Type, string Where)> References(Type type)
    {
        if (type.BaseType is { } baseType)
        {
            yield return (baseType, "base type");
        }

        foreach (var contract in type.GetInterfaces())
        {
            yield return (contract, "interface");
        }

        foreach (var field in type.GetFields(Declared))
        {
            yield return (field.FieldType, field.Name);
        }

        foreach (var property in type.GetProperties(Declared))
        {
            yield return (property.PropertyType, property.Name);
        }

        var methods = type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared));
        foreach (var method in methods)
        {
            if (method is MethodInfo info)
            {
                yield return (info.ReturnType, method.Name);
            }

            foreach (var parameter in method.GetParameters())
            {
                yield return (parameter.ParameterType, method.Name);
            }

            foreach (var used in BodyReferences(method))
            {
                yield return (used, method.Name);
            }
        }
    }

    private static IEnumerable<Type> BodyReferences(MethodBase method)
    {
        byte[]? il;
        try
        {
            il = method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (Exception exception) when (exception is InvalidOperationException or NotSupportedException or BadImageFormatException)
        {
            il = null;
        }

        if (il is null)
        {
            yield break;
        }

        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        var position = 0;
        while (position < il.Length)
        {
            short value = il[position++];
            if (value == 0xFE)
            {
                value = (short)(0xFE00 | il[position++]);
            }

            if (!OpCodesByValue.TryGetValue(value, out var code))
            {
                yield break;
            }

            switch (code.OperandType)
            {
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                    var token = BitConverter.ToInt32(il, position);
                    position += 4;
                    MemberInfo? member;
                    try
                    {
                        member = method.Module.ResolveMember(token, typeArguments, methodArguments);
                    }
                    catch (Exception exception) when (exception is ArgumentException or BadImageFormatException or TypeLoadException)
                    {
                        member = null;
                    }

                    switch (member)
                    {
                        case Type used:
                            yield return used;
                            break;
                        case MethodBase called:
                            if (called.DeclaringType is { } owner)
                            {
                                yield return owner;
                            }

                            if (called is MethodInfo { IsGenericMethod: true } generic)
                            {
                                foreach (var argument in generic.GetGenericArguments())
                                {
                                    yield return argument;
                                }
                            }

                            break;
                        case FieldInfo field when field.DeclaringType is { } fieldOwner:
                            yield return fieldOwner;
                            break;
                    }

                    break;
                case OperandType.InlineSwitch:
                    position += 4 + (4 * BitConverter.ToInt32(il, position));
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    position += 1;
                    break;
                case OperandType.InlineVar:
                    position += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    position += 8;
                    break;
                default:
                    position += 4;
                    break;
            }
        }
    }
}
