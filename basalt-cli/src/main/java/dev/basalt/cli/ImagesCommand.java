package dev.basalt.cli;

import dev.basalt.api.ImageInfo;
import java.util.List;
import picocli.CommandLine.Model.OptionSpec;

/** {@code basalt images}: the image store. */
final class ImagesCommand extends Verb {
    private final OptionSpec json;

    ImagesCommand(CliContext context) {
        super(context, "images", "List the images of the image store (see `basalt image --help`).");
        json = flag("Print a JSON array.", "--json");
    }

    @Override
    public Integer call() {
        List<ImageInfo> all = context.images().list();
        if (Verb.<Boolean>value(json)) {
            context.out().println(Views.json(all.stream().map(Views::image).toList()));
            return 0;
        }
        String format = "%-40s  %-12s  %9s  %-14s  %s%n";
        context.out().printf(format, "NAME", "ID", "SIZE", "CREATED", "SOURCE");
        for (ImageInfo i : all) {
            context.out().printf(format, i.name(), i.id().substring(0, 12), Views.size(i.sizeBytes()),
                    Views.age(i.created()), i.source());
        }
        return 0;
    }
}
