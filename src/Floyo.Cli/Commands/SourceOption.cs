using System.CommandLine;
using Floyo.Recovery.Backups;
using Floyo.Recovery.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Floyo.Cli.Commands;

/// <summary><c>--source primary|secondary|tertiary</c>: which copy of the backups a command reads.</summary>
internal static class SourceOption
{
    public static Option<string?> Create() => new("--source")
    {
        Description = "Read backups from 'primary' (default), 'secondary' (the second copy, BACKUP_SECONDARY_*) or 'tertiary' (the third, BACKUP_TERTIARY_*)",
    };

    public static BackupSource Parse(ParseResult result, Option<string?> option) => BackupStores.ParseSource(result.GetValue(option));

    public static BackupCatalog Catalog(IServiceProvider services, BackupSource source) =>
        services.GetRequiredService<BackupStores>().Catalog(source, services.GetRequiredService<BackupCatalog>());

    /// <summary>An engine service working on <paramref name="source"/>'s catalog instead of the primary's.</summary>
    public static T Service<T>(IServiceProvider services, BackupSource source)
        where T : notnull =>
        source == BackupSource.Primary
            ? services.GetRequiredService<T>()
            : ActivatorUtilities.CreateInstance<T>(services, Catalog(services, source));
}
