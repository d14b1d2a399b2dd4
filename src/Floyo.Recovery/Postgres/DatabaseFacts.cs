namespace Floyo.Recovery.Postgres;

/// <summary>What a database held at one instant: enough to prove a restore complete, and to rebuild it on a new server.</summary>
public sealed record DatabaseFacts(
    string ServerVersion,
    int ServerVersionNum,
    DatabaseProperties Properties,
    IReadOnlyList<TableRows> Tables,
    IReadOnlyDictionary<string, long> ObjectCounts,
    IReadOnlyList<SequenceValue> Sequences,
    IReadOnlyList<RoleDefinition> Roles);

public sealed record DatabaseProperties(string Owner, string Encoding, string Collate, string Ctype);

public sealed record TableRows(string Schema, string Name, string Kind, long Rows)
{
    public string QualifiedName => $"{Schema}.{Name}";
}

public sealed record SequenceValue(string Schema, string Name, long? LastValue);

/// <summary>A role as a new server needs it: attributes and memberships, never a password hash.</summary>
public sealed record RoleDefinition(
    string Name,
    bool Superuser,
    bool Inherit,
    bool CreateRole,
    bool CreateDb,
    bool CanLogin,
    bool Replication,
    bool BypassRls,
    int ConnectionLimit,
    IReadOnlyList<string> MemberOf);
